import { Ollama, type ChatResponse } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';
import { cancelVerdicts, ENGINE_HOW, SEED, startEmbeddedJarvis, TINY_MODEL } from '../helpers/services/embeddedJarvis.js';
import { newConversation, readStream, sendMessage, settledConversation } from '../helpers/streamReader.js';

// The real client packages against a Jarvis on the embedded engine (the tiny GGUF): `openai`
// (chat streamed and not), `ollama` (chat, generate, list, show, ps, an abort), and the
// Conversations API with an answer read across a reconnect (docs/api.md, docs/embedded.md).
// The same prompt and seed give the same gibberish, whichever protocol asks.

let j: TestJarvis;
beforeAll(async () => {
  j = await startEmbeddedJarvis();
}, 60_000);
afterAll(async () => {
  await j?.close();
});

const messages = [{ role: 'user' as const, content: 'Tell me a story.' }];

function openai(session?: string): OpenAI {
  return new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: session ? { 'X-Session-Id': session } : {} });
}

function ollama(session?: string): Ollama {
  return new Ollama({ host: j.url, headers: session ? { 'X-Session-Id': session } : {} });
}

describe('the openai package on the embedded engine', () => {
  it('streams chunks and answers stream:false with the same text for the same seed; usage counts the tokens', async () => {
    const stream = await openai('oa-engine').chat.completions.create({
      model: TINY_MODEL,
      messages,
      max_tokens: 64,
      seed: SEED,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const streamed = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(streamed.length).toBeGreaterThan(20);
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('length');
    expect(chunks.at(-1)?.usage).toMatchObject({ completion_tokens: 64 });
    expect(chunks.at(-1)!.usage!.prompt_tokens).toBeGreaterThan(0);
    expect((await waitForLog(j.logFile, 'stream_end', { session: 'oa-engine' })).fields).toMatchObject({ reason: 'done', tokens: expect.any(String) });

    const whole = await openai().chat.completions.create({ model: TINY_MODEL, messages, max_tokens: 64, seed: SEED, stream: false });
    expect(whole.choices[0]).toMatchObject({ finish_reason: 'length', message: { role: 'assistant', content: streamed } });
    expect(whole.usage).toMatchObject({ completion_tokens: 64 });

    const models = await openai().models.list();
    expect(models.data.map((m) => m.id)).toContain(TINY_MODEL);
  });
});

describe('the ollama package on the embedded engine', () => {
  it('chat streams Ollama lines to done_reason length; generate answers the same words as chat for the same seed', async () => {
    const parts: ChatResponse[] = [];
    for await (const part of await ollama('ol-engine').chat({ model: TINY_MODEL, messages, stream: true, options: { seed: SEED, num_predict: 64 } })) parts.push(part);
    const text = parts.map((p) => p.message.content).join('');
    expect(text.length).toBeGreaterThan(20);
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: 'length', eval_count: 64 });
    expect(parts.at(-1)!.prompt_eval_count).toBeGreaterThan(0);

    const again = await ollama().chat({ model: TINY_MODEL, messages, options: { seed: SEED, num_predict: 64 } });
    expect(again.message.content).toBe(text);

    const generated = await ollama().generate({ model: TINY_MODEL, prompt: 'Once upon a time', options: { seed: SEED, num_predict: 32 } });
    expect(generated).toMatchObject({ done: true, done_reason: 'length', eval_count: 32 });
    expect(generated.response?.length).toBeGreaterThan(10);
  });

  it('list, show and ps name the model from its GGUF; ps shows it loaded with its size', async () => {
    await ollama().generate({ model: TINY_MODEL, prompt: 'hi', options: { num_predict: 4 } });
    const list = await ollama().list();
    const listed = list.models.find((m) => m.name.startsWith(TINY_MODEL));
    expect(listed, JSON.stringify(list)).toBeDefined();
    expect(listed!.size).toBeGreaterThan(1_000_000);
    expect(listed!.details.format).toBe('gguf');

    const show = await ollama().show({ model: TINY_MODEL });
    expect(show.details.format).toBe('gguf');
    expect(show.details.family).toBe('llama');

    const ps = await ollama().ps();
    const loaded = ps.models.find((m) => m.name.startsWith(TINY_MODEL));
    expect(loaded, JSON.stringify(ps)).toBeDefined();
    expect(loaded!.size).toBeGreaterThan(0);
  });

  it('an abort of the ollama client mid-answer cancels it at the engine, confirmed', async () => {
    const client = ollama('ol-abort');
    const stream = await client.chat({ model: TINY_MODEL, messages, stream: true, options: { seed: SEED, num_predict: 4000 } });
    let n = 0;
    try {
      for await (const part of stream) {
        if (part.message.content) n++;
        if (n === 5) client.abort();
      }
    } catch (err) {
      expect((err as Error).name).toBe('AbortError');
    }
    const end = await waitForLog(j.logFile, 'stream_end', { session: 'ol-abort' });
    expect(end.fields.reason).toBe('client_closed');
    expect(cancelVerdicts(j.logFile, (l) => l.fields.session === 'ol-abort')).toEqual([{ trace: end.fields.trace, reason: 'client_closed', cancel: 'confirmed', how: ENGINE_HOW }]);
  });
});

describe('the Conversations API on the embedded engine', () => {
  it('an answer from the model, read across a dropped connection and a reattach, is the stored answer', async () => {
    const conv = await newConversation(j.url, { model: TINY_MODEL });
    const first = sendMessage(j.url, conv, { content: 'Tell me about the sea.', max_tokens: 2000 });
    await first.tokensReached(10, 30_000);
    first.abort();
    await first.finished;
    const streamId = first.events[0]!.stream_id;
    const after = first.lastSeq;
    // The answer goes on without its reader; the reader comes back after the last seq it had.
    const resumed = readStream(j.url, streamId, after);
    await resumed.finished;
    expect(resumed.terminal).toMatchObject({ type: 'done' });
    const seqs = [...first.tokens, ...resumed.tokens].map((t) => t.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    const text = first.text + resumed.text;
    const stored = await settledConversation(j.url, conv);
    const answer = stored.messages.at(-1);
    expect(answer).toMatchObject({ role: 'assistant', state: 'done', stream_id: streamId, content: text });
    expect(seqs.length).toBeGreaterThan(100);
  });
});
