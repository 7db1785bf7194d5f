import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestJarvis } from '../helpers/jarvisServer.js';
import { TINY_MODEL, startEmbeddedJarvis } from '../helpers/services/embeddedJarvis.js';
import { ALICE_KEY, KEYS, ndjsonChat, usageUntil } from './helpers.js';

// The usage record in front of a real engine (the embedded llama.cpp with a tiny model): its own
// token counts are recorded as `reported`, and they match what the answer's done event says.

describe('usage from the embedded engine', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startEmbeddedJarvis(KEYS);
  }, 120_000);
  afterAll(async () => {
    await j?.close();
  });

  it('records the engine\'s own prompt and completion tokens, as reported', async () => {
    const answer = ndjsonChat(j.url, ALICE_KEY, 'Say something.', { model: TINY_MODEL, max_tokens: 16, seed: 7 });
    await answer.finished;
    const done = answer.terminal;
    expect(done).toMatchObject({ type: 'done' });
    const usage = (done as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    const body = await usageUntil(j.url, ALICE_KEY, (b) => b.totals.requests === 1, {}, 30_000);
    expect(body.data).toEqual([
      expect.objectContaining({ key_id: 'env:alice', model: TINY_MODEL, requests: 1, prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens, sources: { reported: 1, counted: 0 } }),
    ]);
  }, 120_000);
});
