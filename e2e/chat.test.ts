import { describe, expect, it } from 'vitest';
import type { FakePlan } from '../test/helpers/fakes/fakeOllama.js';
import type { TestJarvis } from '../test/helpers/jarvisServer.js';
import { events, waitForLog } from '../test/helpers/log.js';
import { normalize, tokensText } from './helpers/chatPage.js';
import { useJarvisBrowser } from './helpers/jarvisBrowser.js';

// The web UI in a real headless Chromium, against a real Jarvis in front of the fake
// Ollama: one test per row of the stream test matrix (docs/tests.md), then the rest of the chat.
// Everything waits on what the page or the server shows, with generous bounds.

const WAIT = { timeout: 20_000, intervals: [50] };

const plan = (prefix: string, count: number, tokenMs: number): FakePlan => ({
  tokens: Array.from({ length: count }, (_, i) => `${prefix}#${i} `),
  tokenMs,
});

const ui = useJarvisBrowser();

function fake(j: TestJarvis) {
  return j.fake!;
}

describe('web UI: the stream test case matrix', { timeout: 90_000 }, () => {
  it('Baseline: tokens stream into the answer, which then completes', async () => {
    const j = await ui.startJarvis();
    fake(j).plan = (p) => plan(p, 60, 40);
    const chat = await ui.openPage(j.url);
    await expect.poll(() => chat.page.getByRole('combobox', { name: 'Model' }).locator('option').allTextContents(), WAIT).toEqual([
      'Default (fake-llama:latest)',
      'fake-llama:latest',
      'fake-qwen:latest',
    ]);
    await expect(chat.page.getByTestId('demo-banner').count()).resolves.toBe(0);

    await chat.send('A');
    // Seen mid-stream: some tokens shown, more to come.
    await expect
      .poll(async () => (await chat.state(0)) === 'streaming' && /A#2\b/.test(await chat.text(0)) && !(await chat.text(0)).includes('A#59'), WAIT)
      .toBe(true);
    await chat.screenshot('baseline-streaming');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    expect(normalize(await chat.text(0))).toBe(tokensText('A', 60));

    const streamId = await chat.answer(0).getAttribute('data-stream-id');
    expect(streamId).toMatch(/^[0-9a-f]{16}$/);
    expect(chat.console).toContain(`log [chat] Stream started: ${streamId}`);
    const end = await waitForLog(j.logFile, 'stream_end', { trace: streamId! });
    expect(end.fields).toMatchObject({ session: await chat.sessionId(), reason: 'done', tokens: '60' });
    await expect(chat.page.getByRole('button', { name: 'Copy answer' }).count()).resolves.toBe(1);
    await chat.screenshot('baseline');
    expect(chat.errors).toEqual([]);
  });

  it('Stop: the answer stops growing, is marked stopped, and the upstream request is closed', async () => {
    const j = await ui.startJarvis();
    fake(j).plan = (p) => plan(p, 400, 10);
    const chat = await ui.openPage(j.url);
    await chat.send('A');
    await expect.poll(() => chat.text(0), WAIT).toMatch(/A#3\b/);
    const upstream = await fake(j).waitForRequest((r) => r.prompt === 'A');

    await chat.page.getByRole('button', { name: 'Stop answering' }).click();
    await expect.poll(() => chat.state(0), WAIT).toBe('stopped');
    const atStop = await chat.text(0);

    await upstream.closed;
    expect(upstream.aborted).toBe(true);
    const session = await chat.sessionId();
    const end = await waitForLog(j.logFile, 'stream_end', { session });
    expect(end.fields.reason).toBe('stopped'); // the stop endpoint, not just a dropped connection
    // The server has ended the stream and its upstream is gone: nothing can arrive any more,
    // and what the user saw at Stop is exactly what stays.
    await chat.page.evaluate('fetch("/health").then((r) => r.json())');
    expect(await chat.text(0)).toBe(atStop);
    expect(normalize(atStop)).toBe(tokensText('A', normalize(atStop).split(' ').length));
    expect(atStop).not.toContain('A#399');
    await expect(chat.answer(0).locator('.state-badge').textContent()).resolves.toBe('Stopped');
    await expect(chat.page.getByRole('button', { name: 'Stop answering' }).count()).resolves.toBe(0);
    // The end of the stream we stopped is expected: no "Ignoring … from inactive stream".
    expect(chat.console.filter((l) => l.includes('Ignoring'))).toEqual([]);
    await chat.screenshot('stop');
    expect(chat.errors).toEqual([]);
  });

  it('Rapid: A, then B 50 ms later: B shows only B tokens and completes, A is marked superseded', async () => {
    const j = await ui.startJarvis();
    fake(j).plan = (p) => (p === 'A' ? plan('A', 400, 10) : plan('B', 20, 10));
    const chat = await ui.openPage(j.url);
    await chat.send('A');
    await chat.page.waitForTimeout(50); // the matrix's stimulus: B 50 ms after A
    await chat.send('B');

    await expect.poll(() => chat.state(1), WAIT).toBe('done');
    expect(normalize(await chat.text(1))).toBe(tokensText('B', 20));
    expect(await chat.state(0)).toBe('superseded');
    const a = normalize(await chat.text(0));
    expect(a).not.toContain('B#');
    if (a) expect(a).toBe(tokensText('A', a.split(' ').length)); // a clean prefix of A's own reply
    await expect(chat.answer(0).locator('.state-badge').textContent()).resolves.toBe('Superseded by a newer prompt');

    const bStream = await chat.answer(1).getAttribute('data-stream-id');
    expect(chat.console).toContain(`log [chat] Stream started: ${bStream}`);
    // A's connection stays open until the server ends it with cancelled/superseded: the guard drops that.
    await expect
      .poll(() => chat.console.filter((l) => l.startsWith('debug [chat] Ignoring cancelled from inactive stream')), WAIT)
      .toHaveLength(1);
    const session = await chat.sessionId();
    const starts = events(j.logFile, 'stream_start', { session });
    expect(starts).toHaveLength(2);
    const aTrace = starts.map((s) => s.fields.trace).find((t) => t !== bStream)!;
    expect((await waitForLog(j.logFile, 'stream_end', { trace: aTrace })).fields.reason).toBe('superseded');
    for (const r of fake(j).requests.filter((r) => r.prompt === 'A')) {
      await r.closed;
      expect(r.aborted).toBe(true);
    }
    await chat.screenshot('rapid');
    expect(chat.errors).toEqual([]);
  });

  it('Stress: A–E sent rapidly: only E completes, A–D are superseded', async () => {
    const j = await ui.startJarvis();
    fake(j).plan = (p) => (p === 'E' ? plan('E', 20, 10) : plan(p, 400, 10));
    const chat = await ui.openPage(j.url);
    for (const p of ['A', 'B', 'C', 'D', 'E']) await chat.send(p);

    await expect.poll(() => chat.state(4), WAIT).toBe('done');
    expect(await chat.states()).toEqual(['superseded', 'superseded', 'superseded', 'superseded', 'done']);
    expect(normalize(await chat.text(4))).toBe(tokensText('E', 20));
    for (let i = 0; i < 4; i++) {
      const t = normalize(await chat.text(i));
      const p = 'ABCD'[i]!;
      if (t) expect(t).toBe(tokensText(p, t.split(' ').length));
    }
    const session = await chat.sessionId();
    for (const start of events(j.logFile, 'stream_start', { session })) await waitForLog(j.logFile, 'stream_end', { trace: start.fields.trace! });
    expect(events(j.logFile, 'stream_end', { session }).filter((e) => e.fields.reason === 'done')).toHaveLength(1);
    for (const r of fake(j).requests.filter((r) => r.prompt !== 'E')) {
      await r.closed;
      expect(r.aborted).toBe(true);
    }
    await chat.screenshot('stress');
    expect(chat.errors).toEqual([]);
  });

  it('Multi: two pages on two conversations stream at once, each shows only its own tokens', async () => {
    const j = await ui.startJarvis();
    fake(j).plan = (p) => plan(p, 40, 25);
    const one = await ui.openPage(j.url);
    // Same browser profile, second tab: they share localStorage, as two tabs of one user do.
    const two = await ui.openPage(j.url, { sameContext: true });

    await one.send('P');
    await two.send('Q');
    // Both answers are seen growing at the same moment: the sessions do not wait on each other.
    await expect.poll(async () => [await one.state(0), await two.state(0)], WAIT).toEqual(['streaming', 'streaming']);
    await one.screenshot('multi-page1-streaming');
    await expect.poll(async () => [await one.state(0), await two.state(0)], WAIT).toEqual(['done', 'done']);
    expect(normalize(await one.text(0))).toBe(tokensText('P', 40));
    expect(normalize(await two.text(0))).toBe(tokensText('Q', 40));
    expect(await one.sessionId()).not.toBe(await two.sessionId());
    // Each tab's list learns of the other's conversation.
    await expect.poll(() => one.conversationTitles.allTextContents(), WAIT).toHaveLength(2);
    await expect.poll(() => two.conversationTitles.allTextContents(), WAIT).toHaveLength(2);
    await one.screenshot('multi-page1');
    await two.screenshot('multi-page2');
    expect([...one.errors, ...two.errors]).toEqual([]);
  });
});

describe('web UI: reasoning models', { timeout: 90_000 }, () => {
  it('the reasoning streams live into a collapsible "Thinking" block above the answer', async () => {
    const j = await ui.startJarvis();
    fake(j).plan = (p) => ({ thinking: Array.from({ length: 40 }, (_, i) => `step ${i}. `), ...plan(p, 20, 30) });
    const chat = await ui.openPage(j.url);
    await chat.send('Why?');
    const answer = chat.answer(0);
    const thinking = answer.getByRole('group').filter({ has: chat.page.getByText('Thinking', { exact: true }) });
    const reasoning = answer.locator('.reasoning-body');
    // Live: reasoning shown, open, while no answer text has come yet.
    await expect.poll(async () => (await reasoning.count()) > 0 && /step 3\./.test((await reasoning.textContent()) ?? '') && (await chat.text(0)) === '', WAIT).toBe(true);
    expect(await thinking.getAttribute('open')).not.toBeNull();
    await chat.screenshot('reasoning-live');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    expect(normalize(await chat.text(0))).toBe(tokensText('Why?', 20));
    expect(normalize((await reasoning.textContent()) ?? '')).toBe(Array.from({ length: 40 }, (_, i) => `step ${i}.`).join(' '));
    // The block sits above the answer.
    const [blockBox, bodyBox] = await Promise.all([thinking.boundingBox(), answer.locator('.message-body').boundingBox()]);
    expect(blockBox!.y + blockBox!.height).toBeLessThanOrEqual(bodyBox!.y + 1);
    // Collapsible by keyboard: focus its summary, Enter closes and opens it.
    const summary = thinking.locator('summary');
    await summary.focus();
    await chat.page.keyboard.press('Enter');
    await expect.poll(() => thinking.getAttribute('open'), WAIT).toBeNull();
    await expect.poll(() => reasoning.isVisible(), WAIT).toBe(false);
    await chat.page.keyboard.press('Enter');
    await expect.poll(() => reasoning.isVisible(), WAIT).toBe(true);
    expect(chat.errors).toEqual([]);
  });
});

describe('web UI: conversations, safety, layout', { timeout: 90_000 }, () => {
  it('conversations (renamed, new, deleted) are kept across a reload; Shift+Enter makes a new line', async () => {
    const j = await ui.startJarvis();
    fake(j).plan = (p) => plan(p.split('\n')[0]!, 5, 5);
    const chat = await ui.openPage(j.url);
    await chat.input.fill('hello');
    await chat.input.press('Shift+Enter');
    await chat.input.pressSequentially('world');
    expect(await chat.input.inputValue()).toBe('hello\nworld');
    await chat.input.press('Enter');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    expect(fake(j).requests[0]!.prompt).toBe('hello\nworld');

    // The server names a conversation after its first prompt (lines joined).
    await chat.page.getByRole('button', { name: 'Rename "hello world"' }).click();
    await chat.page.getByRole('textbox', { name: 'Conversation name' }).fill('My first chat');
    await chat.page.getByRole('textbox', { name: 'Conversation name' }).press('Enter');
    await chat.page.getByRole('button', { name: '+ New chat' }).click();
    await chat.send('second');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    await chat.page.getByRole('button', { name: '+ New chat' }).click();
    await chat.send('third');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    await chat.page.getByRole('button', { name: 'Delete "third"' }).click();
    await chat.page.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => chat.conversationTitles.allTextContents(), WAIT).toEqual(['second', 'My first chat']);

    await chat.page.reload();
    await chat.input.waitFor();
    await expect.poll(() => chat.conversationTitles.allTextContents(), WAIT).toEqual(['second', 'My first chat']);
    await chat.page.getByRole('button', { name: 'My first chat', exact: true }).click();
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    expect(normalize(await chat.text(0))).toBe(tokensText('hello', 5));
    await expect(chat.page.locator('article[data-role="user"]').textContent()).resolves.toBe('hello\nworld');
    await chat.screenshot('reload');
    expect(chat.errors).toEqual([]);
  });

  it('an upstream failure shows as an error with Retry, which asks again in place', async () => {
    const j = await ui.startJarvis();
    let calls = 0;
    fake(j).plan = (p) => (calls++ === 0 ? { tokens: [], tokenMs: 5, fault: 'http_500' } : plan(p, 5, 5));
    const chat = await ui.openPage(j.url);
    await chat.send('R');
    await expect.poll(() => chat.state(0), WAIT).toBe('error');
    const alert = chat.answer(0).getByRole('alert');
    await expect(alert.textContent()).resolves.toMatch(/\S/);
    await chat.screenshot('error');
    await alert.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    expect(normalize(await chat.text(0))).toBe(tokensText('R', 5));
    await expect(chat.answers.count()).resolves.toBe(1);
    expect(chat.errors).toEqual([]);
  });

  it('model output with <img onerror> or <script> shows as text; Markdown and code blocks render', async () => {
    const j = await ui.startJarvis();
    fake(j).plan = () => ({
      tokens: ['Look: ', '<img src=x onerror="window.__pwned=1">', ' and ', '<script>window.__pwned=2</script>', '\n\n', '**bold** ', '[link](javascript:window.__pwned=3)', '\n\n', '```js\n', 'const x = 1;\n', '```\n'],
      tokenMs: 5,
    });
    const chat = await ui.openPage(j.url);
    await chat.send('x');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    const answer = chat.answer(0);
    const text = await chat.text(0);
    expect(text).toContain('<img src=x onerror="window.__pwned=1">');
    expect(text).toContain('<script>window.__pwned=2</script>');
    await expect(answer.locator('img, script, iframe').count()).resolves.toBe(0);
    await expect(answer.locator('strong').textContent()).resolves.toBe('bold');
    await expect(answer.locator('a', { hasText: 'link' }).getAttribute('href')).resolves.not.toMatch(/javascript/i);
    await expect(answer.locator('.code-block code').textContent()).resolves.toBe('const x = 1;\n');
    await expect(answer.getByRole('button', { name: 'Copy code' }).count()).resolves.toBe(1);
    expect(await chat.page.evaluate('typeof window.__pwned')).toBe('undefined');
    await chat.screenshot('xss');
    expect(chat.errors).toEqual([]);
  });

  it('phone width, demo backend: banner, drawer with the conversation list, auto-scroll that pauses when scrolled up', async () => {
    const { chat } = await ui.openJarvisPage({ env: { JARVIS_BACKEND: 'demo', JARVIS_DEMO_TOKEN_MS: '15' }, viewport: { width: 390, height: 740 } });
    await expect.poll(() => chat.page.getByTestId('demo-banner').isVisible(), WAIT).toBe(true);
    await expect(chat.page.getByRole('complementary', { name: 'Conversations' }).isVisible()).resolves.toBe(false);
    // The header fits the screen and the model picker shows its whole label ("Default (jarvis-demo)"):
    // the label's text width (same font) fits inside the select, less its padding and arrow.
    const headerFit = `(() => {
      const select = document.querySelector('.model-select');
      const style = getComputedStyle(select);
      const probe = document.createElement('span');
      probe.style.font = style.font;
      probe.style.whiteSpace = 'pre';
      probe.textContent = select.options[select.selectedIndex].text;
      document.body.append(probe);
      const text = probe.getBoundingClientRect().width;
      probe.remove();
      const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 16;
      const overflow = document.querySelector('.header-actions').getBoundingClientRect().right - window.innerWidth;
      return { label: select.options[select.selectedIndex].text, fits: text <= room, overflow: overflow > 0 };
    })()`;
    await expect.poll(() => chat.page.evaluate(headerFit), WAIT).toEqual({ label: 'Default (jarvis-demo)', fits: true, overflow: false });

    // Enough answers to overflow the screen; the view follows the newest one.
    const scroller = chat.page.locator('.message-scroller');
    const gap = () => scroller.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    for (let i = 0; i < 3; i++) {
      await chat.send(`question ${i}`);
      await expect.poll(() => chat.state(i), WAIT).toBe('done');
    }
    expect(await gap()).toBeLessThanOrEqual(48);
    await chat.screenshot('phone');

    // Scroll up while an answer streams: the view stays where the reader put it.
    await chat.send('question 3');
    await expect.poll(() => chat.state(3), WAIT).toBe('streaming');
    await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
    await scroller.dispatchEvent('scroll');
    await expect.poll(() => chat.state(3), WAIT).toBe('done');
    expect(await scroller.evaluate((el) => el.scrollTop)).toBe(0);
    await chat.page.getByRole('button', { name: 'Scroll to the newest message' }).click();
    await expect.poll(gap, WAIT).toBeLessThanOrEqual(48);

    await chat.page.getByRole('button', { name: 'Show conversations' }).click();
    const drawer = chat.page.getByRole('complementary', { name: 'Conversations' });
    await expect.poll(() => drawer.isVisible(), WAIT).toBe(true);
    await expect(chat.conversationTitles.allTextContents()).resolves.toEqual(['question 0']);
    await expect.poll(() => drawer.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { transform: string } }).getComputedStyle(el).transform), WAIT).toBe('none'); // slide-in finished
    await chat.screenshot('phone-drawer');
    await chat.page.keyboard.press('Escape');
    await expect.poll(() => drawer.isVisible(), WAIT).toBe(false);
    expect(chat.errors).toEqual([]);
  });
});
