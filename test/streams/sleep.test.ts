import { describe, expect, it } from 'vitest';
import { sleep, untilAborted } from '../../src/shared/sleep.js';

// The one abortable pause (src/shared/sleep.ts), used by every layer: it never rejects.

describe('sleep', () => {
  it('resolves after its time', async () => {
    const started = performance.now();
    await sleep(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('resolves as soon as its signal aborts, and at once when it already has', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const pause = sleep(60_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    await expect(pause).resolves.toBeUndefined();
    await expect(sleep(60_000, controller.signal)).resolves.toBeUndefined();
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('untilAborted', () => {
  it("gives the wait's result, or 'aborted' once the signal aborts", async () => {
    expect(await untilAborted(Promise.resolve(7), new AbortController().signal)).toBe(7);
    const controller = new AbortController();
    const waiting = untilAborted(new Promise(() => {}), controller.signal);
    controller.abort();
    expect(await waiting).toBe('aborted');
    expect(await untilAborted(Promise.resolve(7), controller.signal)).toBe('aborted');
  });
});
