import { describe, expect, it } from 'vitest';
import { chat, postJson } from '../../test/helpers/chatClient.js';
import { seriousViolations } from '../helpers/axe.js';
import { useJarvisBrowser } from '../helpers/jarvisBrowser.js';
import { WAIT, bar, barClasses, screenshot } from './opsPage.js';

// The live timeline at /ops (docs/observability.md "The live timeline"), in Chromium against a real
// Jarvis and its ops feed: the runbook's scenario — rapid prompts A–E on one session, a Stop, a client
// that goes away, an upstream that hangs — drawn as it happens, the hanging stream flagged.

const ui = useJarvisBrowser();

// Long replies, but the last of the rapid prompts completes within a second or two.
const slow = (prompt: string) => ({ tokens: Array.from({ length: prompt === 'E' ? 100 : 2000 }, (_, i) => `${prompt}${i} `), tokenMs: 15 });

describe('the /ops page', { timeout: 150_000 }, () => {
  it('draws a runbook scenario live and flags the stream whose upstream hangs', async () => {
    const j = await ui.startJarvis();
    j.fake!.plan = (prompt) => (prompt === 'hang' ? { tokens: [], tokenMs: 5, fault: 'hang_after_headers' } : slow(prompt));
    // A stream open 4 s is flagged as without end (the default is 2 minutes).
    const ops = await ui.openPage(`${j.url}/ops?no_end_s=4`, { waitForChat: false, viewport: { width: 1400, height: 900 } });
    const page = ops.page;
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor(WAIT);

    // Rapid prompts A–E on one session: each supersedes the one before.
    const rapid = [];
    for (const prompt of ['A', 'B', 'C', 'D', 'E']) {
      const call = chat(j.url, { session: 'runbook', prompt });
      await call.firstToken();
      rapid.push(call);
    }
    // A Stop; a client that goes away; an upstream that never answers.
    const stopped = chat(j.url, { session: 'stopper', prompt: 'S' });
    await stopped.firstToken();
    expect((await postJson(`${j.url}/v1/sessions/stopper/stop`, '')).status).toBe(200);
    const gone = new AbortController();
    const closed = chat(j.url, { session: 'closer', prompt: 'G', signal: gone.signal });
    await closed.firstToken();
    gone.abort();
    const hangGone = new AbortController();
    const hanging = chat(j.url, { session: 'hanging', prompt: 'hang', signal: hangGone.signal });
    const ids = await Promise.all(rapid.map((c) => c.streamId));
    const [stopId, closedId, hangId] = await Promise.all([stopped.streamId, closed.streamId, hanging.streamId]);

    // As it happens: A–D superseded, each successor with its supersede wait; E still live.
    for (const id of ids.slice(0, 4)) await expect.poll(() => barClasses(page, id), WAIT).toContain('outcome-superseded');
    await expect.poll(() => barClasses(page, ids[4]!), WAIT).toContain('outcome-done');
    await expect.poll(() => barClasses(page, stopId), WAIT).toContain('outcome-stopped');
    await expect.poll(() => barClasses(page, closedId), WAIT).toContain('outcome-client_closed');
    expect(await page.locator('.tl-span.mark-supersede_wait').count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('.mark-first_token').count()).toBeGreaterThanOrEqual(7);
    expect(await page.locator('.tl-lane-label', { hasText: 'runbook' }).count()).toBe(1);

    // The hanging one: open, then flagged as without end; the others are not flagged.
    await expect.poll(() => barClasses(page, hangId), WAIT).toContain('outcome-live');
    await expect.poll(() => barClasses(page, hangId), WAIT).toContain('flagged');
    const finding = page.locator('.tl-finding', { hasText: `No end: stream ${hangId}` });
    await finding.waitFor(WAIT);
    for (const id of [...ids, stopId, closedId]) expect(await barClasses(page, id)).not.toContain('flagged');

    // Clicking the finding selects the stream: its lines, its upstream.
    await finding.getByRole('button').click();
    const detail = page.locator('.tl-detail');
    await detail.getByRole('heading', { name: `Stream ${hangId}` }).waitFor(WAIT);
    expect(await detail.textContent()).toContain(`stream_start trace=${hangId} session=hanging`);
    expect(await barClasses(page, hangId)).toContain('selected');

    // A stopped stream's detail: the cancel and the engine's verdict marks from its stream_end.
    await page.getByRole('button', { name: /\bstopper ?, 1 streams/ }).focus();
    await page.keyboard.press('Enter');
    await detail.getByRole('heading', { name: `Stream ${stopId}` }).waitFor(WAIT);
    expect(await detail.textContent()).toMatch(/cancel requested \((stopped|session_stop)\)/);

    // Filters: one session, then one outcome.
    await page.getByRole('searchbox', { name: 'Session' }).fill('runbook');
    await expect.poll(() => page.locator('.tl-bar[data-stream]').count(), WAIT).toBe(5);
    await page.getByRole('searchbox', { name: 'Session' }).fill('');
    await page.getByRole('checkbox', { name: /stopped/ }).check();
    await expect.poll(() => page.locator('.tl-bar[data-stream]').count(), WAIT).toBe(1);
    await page.getByRole('checkbox', { name: /stopped/ }).uncheck();

    // Pausable: the clock stops, records still arrive.
    await page.getByRole('button', { name: /Pause/ }).click();
    await page.getByRole('status').filter({ hasText: 'paused' }).waitFor(WAIT);
    await page.getByRole('button', { name: /Resume/ }).click();

    await page.locator('.tl-detail').getByRole('button', { name: 'Close' }).click();
    await page.getByLabel('Window').selectOption('30');
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'ops-light');

    // Dark: a second reader is replayed what the feed retains.
    const dark = await ui.openPage(`${j.url}/ops?no_end_s=4`, { waitForChat: false, colorScheme: 'dark', viewport: { width: 1400, height: 900 } });
    await expect.poll(() => barClasses(dark.page, hangId), WAIT).toContain('flagged');
    await dark.page.getByLabel('Window').selectOption('30');
    // By keyboard: the lane's button selects E, Earlier goes back to A.
    await dark.page.getByRole('button', { name: /\brunbook ?, 5 streams/ }).focus();
    await dark.page.keyboard.press('Enter');
    await dark.page.locator('.tl-detail').getByRole('heading', { name: `Stream ${ids[4]}` }).waitFor(WAIT);
    for (let i = 0; i < 4; i++) await dark.page.getByRole('button', { name: '← Earlier' }).click();
    await dark.page.locator('.tl-detail').getByRole('heading', { name: `Stream ${ids[0]}` }).waitFor(WAIT);
    expect(await seriousViolations(dark.page)).toEqual([]);
    await screenshot(dark.page, 'ops-dark');

    hangGone.abort();
    await postJson(`${j.url}/v1/sessions/runbook/stop`, '');
    await Promise.all([...rapid.map((c) => c.finished), stopped.finished, closed.finished.catch(() => {}), hanging.finished.catch(() => {})]);
  });

  it('stays fast with 3,000 streams: only the lanes in view are drawn', async () => {
    const j = await ui.startJarvis();
    const context = await ui.newContext({ viewport: { width: 1400, height: 900 } });
    let served = false;
    await context.route('**/v1/admin/ops/events', (route) => {
      const body = served ? ': nothing new\n\n' : manyStreams(3000);
      served = true;
      return route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream' }, body });
    });
    const page = await context.newPage();
    const began = Date.now();
    await page.goto(`${j.url}/ops`);
    await page.getByText('3000 of 3000 streams shown').waitFor(WAIT);
    expect(Date.now() - began).toBeLessThan(10_000);
    // 1,000 lanes, a few dozen in the DOM.
    expect(await page.locator('.tl-row').count()).toBeLessThan(80);
    // Scrolled to the end, the last lane is drawn; a filter applies at once.
    await page.locator('.tl-scroller').evaluate((el: any) => el.scrollTo(0, el.scrollHeight));
    await bar(page, 's2999').waitFor(WAIT);
    const filtered = Date.now();
    await page.getByRole('searchbox', { name: 'Session' }).fill('lane-7');
    await page.getByText(/^111 lanes, 333 of 3000 streams shown$/).waitFor(WAIT);
    expect(Date.now() - filtered).toBeLessThan(3000);
  });
});

/** An SSE body: `n` streams over 1,000 sessions in the last minutes, each a start, a first token and an end. */
function manyStreams(n: number): string {
  const now = Date.now();
  const out: string[] = [];
  let seq = 0;
  const record = (t: number, event: string, fields: Record<string, string>) =>
    out.push(`event: record\nid: ${++seq}\ndata: ${JSON.stringify({ t, level: 'info', event, instance: '', fields })}\n\n`);
  for (let i = 0; i < n; i++) {
    const t = now - 240_000 + i * 70;
    const session = `lane-${i % 1000}`;
    const trace = `s${i}`;
    record(t, 'stream_start', { trace, session, stream_id: trace, model: i % 2 ? 'm1' : 'm2', backend: 'ollama' });
    record(t + 20, 'stream_first_token', { trace, session, stream_id: trace });
    record(t + 60, 'stream_end', { trace, session, reason: 'done', finish: 'stop', tokens: '4', duration_ms: '60', ttft_ms: '20' });
  }
  return out.join('');
}
