import { describe, expect, it } from 'vitest';
import { waitForLog } from '../test/helpers/log.js';
import { embeddedEnv } from '../test/helpers/services/embeddedJarvis.js';
import { useJarvisBrowser } from './helpers/jarvisBrowser.js';

// The page keeps up with a fast model (docs/ui.md "Fast models"): the tiny GGUF on the embedded
// engine streams ~2,000 tokens a second, 20 KB of text for a 4000-token answer. The page must stay
// responsive all along: Stop can be clicked mid-answer and takes effect at once, and no task blocks
// the main thread for long. Before the chat state was coalesced per frame and the Markdown rendered
// block by block, this page blocked for 2-36 s and the click timed out.

const WAIT = { timeout: 30_000, intervals: [50] };
/** A task longer than this means the page cannot answer a click in time; the old page had tasks of seconds. */
const LONGEST_TASK_MS = 1_000;
/** From the click to the answer marked stopped, with room for a loaded 2-core machine; the old page took 30 s or more. */
const STOP_WITHIN_MS = 8_000;

const ui = useJarvisBrowser();

/** Run in the page: records every long task (over 50 ms) in `window.longTasks`. */
const WATCH_LONG_TASKS = `window.longTasks = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) window.longTasks.push(Math.round(e.duration)); }).observe({ type: 'longtask' });`;

describe('web UI on a fast model', { timeout: 120_000 }, () => {
  it('a 4000-token answer: Stop mid-answer takes effect promptly, no long task blocks the page', async () => {
    const j = await ui.startJarvis(embeddedEnv({ JARVIS_MAX_TOKENS_DEFAULT: '4000' }), { fake: false });
    const chat = await ui.openPage(j.url);
    await chat.page.evaluate(WATCH_LONG_TASKS);
    await chat.send('Write a very long story about the sea.');
    // 5 KB in (a quarter): the page has rendered a good part of the answer while it streams.
    await expect.poll(async () => (await chat.text(0)).length, WAIT).toBeGreaterThan(5_000);

    const clicked = Date.now();
    await chat.page.getByRole('button', { name: 'Stop answering' }).click({ timeout: STOP_WITHIN_MS });
    await expect.poll(() => chat.state(0), { timeout: STOP_WITHIN_MS, interval: 50 }).toBe('stopped');
    const stopMs = Date.now() - clicked;
    const longTasks = (await chat.page.evaluate('window.longTasks')) as number[];
    console.log(`[fastStream] stop took ${stopMs} ms; long tasks (ms): ${JSON.stringify(longTasks)}`);
    expect(stopMs).toBeLessThan(STOP_WITHIN_MS);
    expect(Math.max(0, ...longTasks)).toBeLessThan(LONGEST_TASK_MS);

    // Stopped at the engine mid-answer, and the page shows all the text it received.
    const streamId = await chat.answer(0).getAttribute('data-stream-id');
    const end = await waitForLog(j.logFile, 'stream_end', { trace: streamId! });
    expect(end.fields.reason).toBe('stopped');
    expect(Number(end.fields.tokens)).toBeLessThan(4000);
    expect(chat.errors).toEqual([]);
  });
});
