import { afterEach, describe, expect, it, vi } from 'vitest';
import { OpenAIEventReader } from '../../src/backends/openai/wire.js';
import type { BackendChunk } from '../../src/backends/types.js';
import { chat } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { TRICKY } from '../helpers/scenarios/trickyText.js';

// Jarvis reads an OpenAI-compatible server's content chunks on a fast path (a
// template of the last content-only chunk, see OpenAIEventReader.learn). Whatever
// the chunk holds and however the server writes it, the result must be what a
// full parse of that chunk gives.

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});

/** Chunks as real servers write them: field order, spacing and escaping differ. */
const SERVERS: Record<string, (content: unknown, extra?: { finish?: string; created?: number; reasoning?: string }) => string> = {
  vllm: (content, x = {}) =>
    JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: x.created ?? 1, model: 'm', choices: [{ index: 0, delta: x.reasoning ? { reasoning_content: x.reasoning, content } : { content }, logprobs: null, finish_reason: x.finish ?? null }] }),
  // llama.cpp: choices first, `created` from the clock (changes every second), more fields after.
  llamacpp: (content, x = {}) =>
    JSON.stringify({ choices: [{ finish_reason: x.finish ?? null, index: 0, delta: { content } }], created: x.created ?? 1, id: 'chatcmpl-2', model: 'm', system_fingerprint: 'b1', object: 'chat.completion.chunk' }),
  // Python's json.dumps defaults: ", " and ": " separators, non-ASCII escaped.
  python: (content, x = {}) =>
    JSON.stringify({ id: 'c3', object: 'chat.completion.chunk', created: x.created ?? 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: x.finish ?? null }] })
      .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
      .replace(/([^\\])":/g, '$1": ')
      .replace(/,"/g, ', "'),
};

/** What a full parse gives for one event: a fresh reader has no template. */
function reference(data: string): BackendChunk[] {
  const batch: BackendChunk[] = [];
  new OpenAIEventReader().read(data, batch);
  return batch;
}

describe('OpenAI-compatible content chunks', () => {
  for (const [server, chunk] of Object.entries(SERVERS)) {
    it(`${server}: every chunk reads as a full parse of it would, fast path or not`, () => {
      const events = [
        chunk('first '),
        ...TRICKY.map((t) => chunk(t)),
        chunk(''),
        chunk('next second ', { created: 2 }),
        chunk('after the clock '),
        chunk('thinking too ', { reasoning: 'hm' }),
        chunk('plain again '),
        chunk('last words', { finish: 'stop' }),
      ];
      const reader = new OpenAIEventReader();
      for (const data of events) {
        const batch: BackendChunk[] = [];
        reader.read(data, batch);
        expect(batch, data).toEqual(reference(data));
      }
      expect(reader.finish).toBe('stop');
    });
  }

  it('after the first content chunk, plain tokens are read without JSON.parse (each server\'s way of writing them)', () => {
    for (const chunk of Object.values(SERVERS)) {
      const reader = new OpenAIEventReader();
      reader.read(chunk('first '), []);
      const parse = vi.spyOn(JSON, 'parse');
      try {
        const batch: BackendChunk[] = [];
        for (let i = 0; i < 100; i++) reader.read(chunk(`t${i} `), batch);
        expect(batch).toHaveLength(100);
        expect(parse).not.toHaveBeenCalled();
      } finally {
        parse.mockRestore();
      }
    }
  });

  it('text_completion chunks (/v1/completions) take the same path: choices[].text, read without JSON.parse after the first', () => {
    const chunk = (text: string) => JSON.stringify({ id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm', choices: [{ text, index: 0, logprobs: null, finish_reason: null }] });
    const reader = new OpenAIEventReader();
    const first: BackendChunk[] = [];
    reader.read(chunk('first '), first);
    expect(first).toEqual([{ type: 'token', text: 'first ' }]);
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const batch: BackendChunk[] = [];
      for (let i = 0; i < 100; i++) reader.read(chunk(`t${i} `), batch);
      expect(batch).toHaveLength(100);
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });

  it("llama-server's own stream (/infill): content per event, then stop with its counts", () => {
    const reader = new OpenAIEventReader();
    const batch: BackendChunk[] = [];
    reader.read(JSON.stringify({ index: 0, content: 'a + b', tokens: [], stop: false }), batch);
    reader.read(JSON.stringify({ index: 0, content: '', stop: true, stop_type: 'limit', tokens_predicted: 3, tokens_evaluated: 11 }), batch);
    reader.end(batch);
    expect(batch).toEqual([
      { type: 'token', text: 'a + b' },
      { type: 'done', reason: 'length', usage: { prompt_tokens: 11, completion_tokens: 3 } },
    ]);
  });

  it('round-trip every kind of text exactly through Jarvis and the fake OpenAI-compatible server', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
    j.fake!.plan = () => ({ tokens: TRICKY, tokenMs: 1 });
    const call = chat(j.url, { session: 'wire-openai', prompt: 'x' });
    await call.finished;
    expect(call.terminal?.type).toBe('done');
    expect(call.events.filter((e) => e.type === 'token').map((e) => (e.type === 'token' ? e.text : ''))).toEqual(TRICKY);
  });
});
