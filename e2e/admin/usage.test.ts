import { describe, expect, it } from 'vitest';
import { utcDay } from '../../src/client/admin/usageSummary.js';
import { seriousViolations } from '../helpers/axe.js';
import { useJarvisBrowser } from '../helpers/jarvisBrowser.js';
import { cells, createKeyByApi, signIn, unexpected, WAIT } from './adminPage.js';

// Usage in the UI (docs/ui.md "Usage" and "Admin page"), in real Chromium against a real
// Jarvis: a person's chat counts in their own usage panel and in the admin's table per day
// and model; a limit's 429 shows its words in the chat. Recording: docs/team.md "Usage and limits".

const ROOT = 'root-admin-key-0123456789abcdef';
const DAVE = 'dave-key-0123456789abcdef';
const ui = useJarvisBrowser();

describe('usage in the UI', { timeout: 120_000 }, () => {
  it("a chat's tokens show in the person's usage (with what is left today) and in the admin's table per day and model", async () => {
    const j = await ui.startJarvis({ JARVIS_ADMIN_KEYS: `root:${ROOT}` });
    j.fake!.plan = (p: string) => ({ tokens: Array.from({ length: 6 }, (_, i) => `${p}#${i} `), tokenMs: 5 });
    const carol = await createKeyByApi(j.url, ROOT, { name: 'carol-laptop', owner: 'carol', limits: { tokens_per_day: 1000 } });
    const chat = await ui.openPage(j.url, { waitForChat: false });
    await signIn(chat, carol.key);
    await chat.input.waitFor(WAIT);
    await chat.send('hello');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');

    // The fake model server reports 7 prompt and 6 completion tokens per answer.
    await chat.page.getByRole('button', { name: 'Settings', exact: true }).click();
    await chat.page.getByTestId('global-settings').getByRole('button', { name: 'Usage' }).click();
    const dialog = chat.page.getByTestId('usage-dialog');
    await expect.poll(() => dialog.getByTestId('usage-today').textContent(), WAIT).toBe('Today (UTC)13 tokens7 in · 6 out · 1 request');
    expect(await dialog.getByTestId('usage-limits').textContent()).toContain('987 left of 1,000');
    expect(await cells(dialog.getByTestId('usage-by-model').getByRole('row').nth(1))).toEqual(['fake-llama:latest', '1', '13']);
    expect(await seriousViolations(chat.page)).toEqual([]);
    await chat.screenshot('usage-dialog');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => chat.page.evaluate('document.activeElement?.getAttribute("aria-label")'), WAIT).toBe('Settings');

    const admin = await ui.openPage(`${j.url}/admin`, { waitForChat: false });
    await signIn(admin, ROOT);
    const table = admin.page.getByTestId('usage-table');
    const today = utcDay(new Date());
    await expect.poll(async () => cells(table.getByRole('row').nth(1)), WAIT).toEqual([today, 'carol-laptop · carol', 'fake-llama:latest', '1', '7', '6', '13', expect.any(String), 'model server']);
    expect(await cells(table.getByTestId('usage-totals'))).toEqual(['Total', '1', '7', '6', '13', expect.any(String), '']);
    await admin.page.getByLabel('Per', { exact: true }).selectOption('model');
    await expect.poll(async () => cells(table.getByRole('row').nth(1)), WAIT).toEqual(['fake-llama:latest', '1', '7', '6', '13', expect.any(String), 'model server']);
    await admin.page.getByLabel('Per', { exact: true }).selectOption('day-key-model');
    expect(await seriousViolations(admin.page)).toEqual([]);
    await admin.page.setViewportSize({ width: 1280, height: 1100 });
    await admin.screenshot('admin-page');
    expect(unexpected([...chat.errors, ...admin.errors])).toEqual([]);
  });

  it("a refusal for a limit (429 rate_limited) shows the server's words in the chat", async () => {
    const j = await ui.startJarvis({ JARVIS_API_KEYS: `dave:${DAVE}`, JARVIS_DEFAULT_LIMITS: '{"rpm":1}' });
    j.fake!.plan = (p: string) => ({ tokens: [`${p} `], tokenMs: 5 });
    const chat = await ui.openPage(j.url, { waitForChat: false });
    await signIn(chat, DAVE);
    await chat.input.waitFor(WAIT);
    await chat.send('one');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    await chat.send('two');
    await expect.poll(() => chat.state(1), WAIT).toBe('error');
    const shown = (await chat.answer(1).getByRole('alert').textContent()) ?? '';
    expect(shown).toMatch(/^this key may make 1 request a minute \(rpm\); try again in \d+ s/);
    // What the API says to anyone with this key now, in the same words.
    const refused = await fetch(`${j.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DAVE}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-llama:latest', messages: [{ role: 'user', content: 'three' }] }),
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('rate_limited');
    expect(body.error.message.replace(/\d+ s$/, '')).toBe(shown.replace(/\d+ s.*$/, ''));
  });

  it("an answer that reaches the day's token budget is cut and says why; the next prompt is refused in words", async () => {
    const j = await ui.startJarvis({ JARVIS_API_KEYS: `dave:${DAVE}`, JARVIS_DEFAULT_LIMITS: '{"tokens_per_day":40}' });
    j.fake!.plan = (p: string) => ({ tokens: Array.from({ length: 100 }, (_, i) => `${p}${i} `), tokenMs: 2 });
    const chat = await ui.openPage(j.url, { waitForChat: false });
    await signIn(chat, DAVE);
    await chat.input.waitFor(WAIT);
    await chat.send('hi');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    expect(await chat.answer(0).locator('.state-badge').textContent()).toBe(
      "Cut off: the answer stopped at this key's budget of 40 tokens a day, UTC (tokens_per_day); more tokens are available after midnight UTC",
    );
    expect(await chat.text(0)).toContain('hi0');
    await chat.send('again');
    await expect.poll(() => chat.state(1), WAIT).toBe('error');
    expect(await chat.answer(1).getByRole('alert').textContent()).toMatch(/this key may use 40 tokens a day, UTC \(tokens_per_day\); try again in \d+ s/);
    expect(await seriousViolations(chat.page)).toEqual([]);
    // The default limits are this key's: the usage panel shows the day's budget spent.
    await chat.page.getByTestId('account').getByRole('button', { name: 'Usage' }).click();
    const limits = chat.page.getByTestId('usage-dialog').getByTestId('usage-limits');
    await expect.poll(() => limits.textContent(), WAIT).toBe('Tokens per day (UTC)0 left of 40');
  });
});
