import { describe, expect, it } from 'vitest';
import { waitForLog } from '../test/helpers/log.js';
import { cancelVerdicts, ENGINE_HOW, embeddedEnv, TINY_MODEL } from '../test/helpers/services/embeddedJarvis.js';
import { useJarvisBrowser } from './helpers/jarvisBrowser.js';

// The web UI in headless Chromium against a Jarvis on the embedded engine with the tiny GGUF
// (docs/embedded.md): no fake anywhere. The answer is gibberish, streamed by a real model; Stop
// ends it at the engine, and both the log and the page say the engine confirmed it (docs/operations.md,
// docs/ui.md "Stop").

const WAIT = { timeout: 30_000, intervals: [50] };

const ui = useJarvisBrowser();

/** Run in the page: records [data-state, text length] of the first answer at every change of the DOM. */
const WATCH_ANSWER = `window.answerSeen = [];
new MutationObserver(() => {
  const a = document.querySelector('article[data-role="assistant"]');
  if (a) window.answerSeen.push([a.getAttribute('data-state'), a.querySelector('.message-body')?.textContent?.length ?? 0]);
}).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });`;

describe('web UI on the embedded engine', { timeout: 90_000 }, () => {
  it('a prompt: the model’s answer streams in, then completes', async () => {
    // The server's default bounds the answer (the UI sends no max_tokens): a second or so of tokens.
    const j = await ui.startJarvis(embeddedEnv({ JARVIS_MAX_TOKENS_DEFAULT: '600' }), { fake: false });
    const chat = await ui.openPage(j.url);
    await expect.poll(() => chat.page.getByRole('combobox', { name: 'Model' }).locator('option').allTextContents(), WAIT).toContain(TINY_MODEL);
    await expect(chat.page.getByTestId('demo-banner').count()).resolves.toBe(0);

    // The page itself notes each state the answer goes through (polling from here could miss a short answer's stream).
    await chat.page.evaluate(WATCH_ANSWER);
    await chat.send('Tell me about the sea.');
    await expect.poll(() => chat.state(0), WAIT).toBe('done');
    const shown = await chat.text(0);
    expect(shown.trim().length).toBeGreaterThan(100);
    // Seen mid-answer: some of the text, still streaming, then more.
    const seen = (await chat.page.evaluate('window.answerSeen')) as Array<[string | null, number]>;
    expect(seen.some(([state, length]) => state === 'streaming' && length > 0 && length < shown.length), JSON.stringify(seen.slice(0, 20))).toBe(true);

    const streamId = await chat.answer(0).getAttribute('data-stream-id');
    const end = await waitForLog(j.logFile, 'stream_end', { trace: streamId! });
    expect(end.fields).toMatchObject({ reason: 'done', finish: 'length', tokens: '600' });
    await chat.screenshot('embedded-done');
    expect(chat.errors).toEqual([]);
  });

  it('Stop mid-answer: the answer stops growing, is marked stopped, and the page and the log say the engine confirmed it', async () => {
    // 1500 tokens: long enough to stop mid-way. A 4000-token answer, and how fast the page answers
    // Stop while it streams, is e2e/fastStream.test.ts.
    const j = await ui.startJarvis(embeddedEnv({ JARVIS_MAX_TOKENS_DEFAULT: '1500' }), { fake: false });
    const chat = await ui.openPage(j.url);
    await chat.send('Write a long poem about stars.');
    await expect.poll(async () => (await chat.text(0)).length > 0, WAIT).toBe(true);

    await chat.page.getByRole('button', { name: 'Stop answering' }).click();
    await expect.poll(() => chat.state(0), WAIT).toBe('stopped');
    const atStop = await chat.text(0);
    const streamId = await chat.answer(0).getAttribute('data-stream-id');
    const end = await waitForLog(j.logFile, 'stream_end', { trace: streamId! });
    expect(end.fields.reason).toBe('stopped');
    expect(Number(end.fields.tokens)).toBeLessThan(1500);
    expect(cancelVerdicts(j.logFile, (l) => l.fields.trace === streamId)).toEqual([{ trace: streamId, reason: 'stopped', cancel: 'confirmed', how: ENGINE_HOW }]);
    // Nothing arrives after the end: what the user saw at Stop stays.
    await chat.page.evaluate('fetch("/health").then((r) => r.json())');
    expect(await chat.text(0)).toBe(atStop);
    await expect(chat.answer(0).locator('.state-badge').textContent()).resolves.toBe('Stopped');
    // Beside it, the engine's verdict as the stop answer carried it: the sequence freed, in the log's figure.
    const verdict = chat.answer(0).locator('.stop-verdict');
    await verdict.waitFor(WAIT);
    expect(await verdict.getAttribute('data-verdict')).toBe('confirmed');
    expect(await verdict.getAttribute('data-how')).toBe(ENGINE_HOW);
    expect(await verdict.textContent()).toBe(`· the model stopped in ${end.fields.cancel_ms} ms`);
    expect(await verdict.getAttribute('title')).toMatch(/built-in engine/);
    await chat.screenshot('embedded-stop');
    expect(chat.errors).toEqual([]);
  });
});
