// Embeddings from the tiny GGUF through node-llama-cpp's embedding context
// (docs/embedded.md, "JSON output, tools and embeddings").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_EMBED_INPUTS, embedWithModel } from '../../../src/backends/embedded/embeddings.js';
import { BackendError } from '../../../src/backends/types.js';
import { type TinyEngine, loadTinyEngine } from './grammar/grammarTinyEngine.js';

let engine: TinyEngine;
const settings = { threads: 1, contextTokens: 32 };
const signal = new AbortController().signal;
const norm = (v: number[]): number => Math.sqrt(v.reduce((n, x) => n + x * x, 0));

beforeAll(async () => {
  engine = await loadTinyEngine();
}, 60_000);

afterAll(async () => {
  await engine?.dispose();
});

describe('embeddings on the tiny model', () => {
  it('gives one normalised vector per input, in order, the same for the same text', async () => {
    const result = await embedWithModel(engine.model, settings, { model: 'tiny', input: ['hello world', 'a different text', 'hello world'] }, signal);
    expect(result.embeddings).toHaveLength(3);
    for (const v of result.embeddings) {
      expect(v).toHaveLength(engine.model.embeddingVectorSize);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    expect(result.embeddings[0]).toEqual(result.embeddings[2]);
    expect(result.embeddings[0]).not.toEqual(result.embeddings[1]);
    expect(result.promptTokens).toBeGreaterThanOrEqual(6);
  });

  it('cuts a long input to the context unless truncate is false, then says so', async () => {
    const long = 'word '.repeat(200);
    const cut = await embedWithModel(engine.model, settings, { model: 'tiny', input: [long] }, signal);
    expect(cut.promptTokens).toBe(32);
    await expect(embedWithModel(engine.model, settings, { model: 'tiny', input: [long], truncate: false }, signal)).rejects.toThrow(/more than the 32 the model reads at once/);
  });

  it('shortens to the dimensions asked, and refuses what it cannot do', async () => {
    const result = await embedWithModel(engine.model, settings, { model: 'tiny', input: ['x'], dimensions: 4 }, signal);
    expect(result.embeddings[0]).toHaveLength(4);
    expect(norm(result.embeddings[0] ?? [])).toBeCloseTo(1, 5);
    await expect(embedWithModel(engine.model, settings, { model: 'tiny', input: ['x'], dimensions: 9999 }, signal)).rejects.toBeInstanceOf(BackendError);
    await expect(embedWithModel(engine.model, settings, { model: 'tiny', input: [] }, signal)).rejects.toThrow(/at least one/);
    const many = Array.from({ length: MAX_EMBED_INPUTS + 1 }, () => 'x');
    await expect(embedWithModel(engine.model, settings, { model: 'tiny', input: many }, signal)).rejects.toThrow(/at most/);
    const empty = await embedWithModel(engine.model, settings, { model: 'tiny', input: [''] }, signal);
    expect(empty.embeddings[0]).toHaveLength(engine.model.embeddingVectorSize);
  });

  it('stops between inputs once aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('client left'));
    await expect(embedWithModel(engine.model, settings, { model: 'tiny', input: ['a', 'b'] }, controller.signal)).rejects.toThrow('client left');
  });
});
