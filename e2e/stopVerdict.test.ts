import { describe, expect, it } from 'vitest';
import { waitForLog } from '../test/helpers/log.js';
import { useJarvisBrowser } from './helpers/jarvisBrowser.js';

// Stop in the web UI says whether the model really stopped (docs/ui.md "Stop"): the stop
// endpoint waits for the engine's verdict and the stopped answer shows it, with what it
// rests on in the tooltip. Real headless Chromium, a real Jarvis.

const WAIT = { timeout: 20_000, intervals: [50] };
const ui = useJarvisBrowser();

const slow = (prompt: string, extra: object = {}) => ({ tokens: Array.from({ length: 400 }, (_, i) => `${prompt}#${i} `), tokenMs: 10, ...extra });

describe('web UI: the Stop verdict', { timeout: 90_000 }, () => {
  it('Ollama: "the model stopped in N ms", resting on the closed connection, as the log says', async () => {
    const j = await ui.startJarvis();
    j.fake!.plan = (p) => slow(p);
    const chat = await ui.openPage(j.url);
    await chat.send('A');
    await expect.poll(() => chat.text(0), WAIT).toMatch(/A#3\b/);
    await chat.page.getByRole('button', { name: 'Stop answering' }).click();
    await expect.poll(() => chat.state(0), WAIT).toBe('stopped');

    const verdict = chat.answer(0).locator('.stop-verdict');
    await verdict.waitFor(WAIT);
    const text = (await verdict.textContent()) ?? '';
    expect(text).toMatch(/^· the model stopped in \d+ ms$/);
    expect(await verdict.getAttribute('data-verdict')).toBe('confirmed');
    expect(await verdict.getAttribute('title')).toMatch(/closed its connection/);
    const end = await waitForLog(j.logFile, 'stream_end', { session: await chat.sessionId() });
    expect(end.fields).toMatchObject({ reason: 'stopped', cancel: 'confirmed', cancel_how: 'connection_closed' });
    expect(text).toBe(`· the model stopped in ${end.fields.cancel_ms} ms`);
    await chat.screenshot('stop-confirmed');
    expect(chat.errors).toEqual([]);
  });

  it('demo backend: confirmed', async () => {
    const j = await ui.startJarvis({ JARVIS_BACKEND: 'demo', JARVIS_DEMO_TOKEN_MS: '40' });
    const chat = await ui.openPage(j.url);
    await chat.send('hello');
    await expect.poll(async () => (await chat.text(0)).length, WAIT).toBeGreaterThan(10);
    await chat.page.getByRole('button', { name: 'Stop answering' }).click();
    const verdict = chat.answer(0).locator('.stop-verdict');
    await verdict.waitFor(WAIT);
    expect(await verdict.textContent()).toMatch(/^· the model stopped in \d+ ms$/);
    expect(await verdict.getAttribute('title')).toMatch(/demo backend's generator ended/);
    expect(chat.errors).toEqual([]);
  });

  it('an upstream that ignores the stop: "Jarvis could not confirm the model stopped"', async () => {
    const j = await ui.startJarvis({ JARVIS_CANCEL_TIMEOUT_MS: '400' });
    j.fake!.plan = (p) => slow(p, { ignoreAbort: true });
    const chat = await ui.openPage(j.url);
    await chat.send('A');
    await expect.poll(() => chat.text(0), WAIT).toMatch(/A#3\b/);
    await chat.page.getByRole('button', { name: 'Stop answering' }).click();
    const verdict = chat.answer(0).locator('.stop-verdict');
    await verdict.waitFor(WAIT);
    expect(await verdict.textContent()).toBe('· Jarvis could not confirm the model stopped');
    expect(await verdict.getAttribute('data-verdict')).toBe('unconfirmed');
    expect(await verdict.getAttribute('title')).toMatch(/JARVIS_CANCEL_TIMEOUT_MS/);
    await chat.screenshot('stop-unconfirmed');
    expect(chat.errors).toEqual([]);
  });
});
