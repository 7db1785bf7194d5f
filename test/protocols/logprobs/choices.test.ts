import OpenAI, { BadRequestError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPlan } from '../../helpers/fakes/fakeUpstream.js';
import { fakeChoiceText, fakeLogprob } from '../../helpers/fakes/fakeLogprobs.js';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';
import type { FakeOpenAI } from '../../helpers/fakes/fakeOpenAI.js';

// `n` > 1 through Jarvis (docs/api.md "Logprobs and n"): passed to a vLLM-style upstream,
// its choices streamed by `index` and answered whole, under one stream's session rules.

const MODEL = 'fake-llama:latest';
const TOKENS = defaultPlan('nn').tokens;
const slow = (prompt: string) => ({ tokens: Array.from({ length: 400 }, (_, i) => `${prompt}#${i} `), tokenMs: 10 });

type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;

/** Each choice's text and finish reasons, by index, from a streamed answer. */
function byChoice(chunks: Chunk[]): Map<number, { text: string; finishes: string[]; logprobs: unknown[] }> {
  const out = new Map<number, { text: string; finishes: string[]; logprobs: unknown[] }>();
  for (const chunk of chunks) {
    for (const c of chunk.choices) {
      const entry = out.get(c.index) ?? { text: '', finishes: [], logprobs: [] };
      out.set(c.index, entry);
      entry.text += c.delta.content ?? '';
      if (c.finish_reason) entry.finishes.push(c.finish_reason);
      entry.logprobs.push(...(c.logprobs?.content ?? []));
    }
  }
  return out;
}

describe('n > 1 in front of an OpenAI-compatible (vLLM-style) upstream', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
  });
  afterAll(async () => {
    await j?.close();
  });
  const client = (session?: string) =>
    new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'sk-test', maxRetries: 0, defaultHeaders: session ? { 'X-Session-Id': session } : {} });
  const messages = [{ role: 'user' as const, content: 'nn' }];
  const lastUpstreamBody = () => j.fake!.requests.at(-1)!.body as Record<string, unknown>;

  it('streamed: two choices by index, each complete with its finish_reason, and the summed usage', async () => {
    const stream = await client().chat.completions.create({ model: MODEL, messages, n: 2, stream: true, stream_options: { include_usage: true } });
    const chunks: Chunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const choices = byChoice(chunks);
    expect([...choices.keys()].sort()).toEqual([0, 1]);
    expect(choices.get(0)).toMatchObject({ text: TOKENS.join(''), finishes: ['stop'] });
    expect(choices.get(1)).toMatchObject({ text: TOKENS.map((t) => fakeChoiceText(t, 1)).join(''), finishes: ['stop'] });
    expect(chunks.at(-1)!.usage).toEqual({ prompt_tokens: 7, completion_tokens: 2 * TOKENS.length, total_tokens: 7 + 2 * TOKENS.length });
    expect(lastUpstreamBody().n).toBe(2);
  });

  it('not streamed: n choices, each a whole message; with logprobs, each choice has its own', async () => {
    const completion = await client().chat.completions.create({ model: MODEL, messages, n: 2, logprobs: true, top_logprobs: 1, stream: false });
    expect(completion.choices).toHaveLength(2);
    expect(completion.choices[0]).toMatchObject({ index: 0, message: { role: 'assistant', content: TOKENS.join('') }, finish_reason: 'stop' });
    expect(completion.choices[1]).toMatchObject({ index: 1, message: { role: 'assistant', content: TOKENS.map((t) => fakeChoiceText(t, 1)).join('') }, finish_reason: 'stop' });
    expect(completion.choices[0]!.logprobs?.content).toEqual(TOKENS.map((t) => fakeLogprob(t, 1)));
    expect(completion.choices[1]!.logprobs?.content).toEqual(TOKENS.map((t) => fakeLogprob(fakeChoiceText(t, 1), 1)));
    expect(completion.usage).toMatchObject({ completion_tokens: 2 * TOKENS.length });

    // An upstream that reports no usage: Jarvis counts every choice's tokens.
    j.fake!.plan = (p) => ({ ...defaultPlan(p), usageForm: 'none' });
    try {
      const counted = await client().chat.completions.create({ model: MODEL, messages, n: 3, stream: false });
      expect(counted.choices).toHaveLength(3);
      expect(counted.usage).toMatchObject({ completion_tokens: 3 * TOKENS.length });
    } finally {
      j.fake!.plan = defaultPlan;
    }
  });

  it('a server that ignores n: the answer has the one choice it sent, not empty ones', async () => {
    const fake = j.fake as FakeOpenAI;
    fake.servesN = false;
    try {
      const completion = await client().chat.completions.create({ model: MODEL, messages, n: 2, stream: false });
      expect(completion.choices.map((c) => c.index)).toEqual([0]);
      const stream = await client().chat.completions.create({ model: MODEL, messages, n: 2, stream: true });
      const chunks: Chunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect([...byChoice(chunks).keys()]).toEqual([0]);
    } finally {
      fake.servesN = true;
    }
  });

  it('Stop ends every choice once, with one terminal, and closes the upstream', async () => {
    j.fake!.plan = slow;
    try {
      const stream = await client('n-stop').chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'S' }], n: 3, stream: true });
      const chunks: Chunk[] = [];
      const reading = (async () => {
        for await (const chunk of stream) chunks.push(chunk);
      })();
      await expect.poll(() => chunks.length, { timeout: 10_000 }).toBeGreaterThan(6);
      const stop = await fetch(`${j.url}/v1/sessions/n-stop/stop`, { method: 'POST' });
      expect(await stop.json()).toMatchObject({ stopped: true });
      await reading;
      const choices = byChoice(chunks);
      expect([...choices.keys()].sort()).toEqual([0, 1, 2]);
      // One finish_reason per choice, the same for all: the stream's one end.
      const finishes = [0, 1, 2].map((i) => choices.get(i)!.finishes);
      for (const f of finishes) expect(f).toHaveLength(1);
      expect(new Set(finishes.flat()).size).toBe(1);
      const up = await j.fake!.waitForRequest((r) => r.prompt === 'S');
      await up.closed;
      expect(up.aborted).toBe(true);
    } finally {
      j.fake!.plan = defaultPlan;
    }
  });

  it('a second request on the session supersedes an n > 1 stream: each of its choices ends once', async () => {
    j.fake!.plan = (p) => (p === 'A' ? slow(p) : { tokens: ['B1 ', 'B2'], tokenMs: 5 });
    try {
      const first = await client('n-two').chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'A' }], n: 2, stream: true });
      const chunks: Chunk[] = [];
      const reading = (async () => {
        for await (const chunk of first) chunks.push(chunk);
      })();
      await expect.poll(() => chunks.length, { timeout: 10_000 }).toBeGreaterThan(4);
      const second = await client('n-two').chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'B' }], stream: false });
      await reading;
      const choices = byChoice(chunks);
      expect(choices.get(0)!.finishes).toHaveLength(1);
      expect(choices.get(1)!.finishes).toEqual(choices.get(0)!.finishes);
      expect(second.choices[0]).toMatchObject({ message: { content: 'B1 B2' }, finish_reason: 'stop' });
    } finally {
      j.fake!.plan = defaultPlan;
    }
  });

  it('n with Jarvis NDJSON, above 8, or with tools: a 400 in words', async () => {
    const ndjson = await fetch(`${j.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ model: MODEL, messages, n: 2 }),
    });
    expect(ndjson.status).toBe(400);
    expect(((await ndjson.json()) as { error: { message: string } }).error.message).toMatch(/Jarvis NDJSON carries one reply/);
    const tooMany = await client().chat.completions.create({ model: MODEL, messages, n: 9 }).catch((e: unknown) => e);
    expect(tooMany).toBeInstanceOf(BadRequestError);
    expect((tooMany as BadRequestError).message).toMatch(/n=9 is more than 8/);
  });
});

describe('n > 1 where the upstream has none', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis();
  });
  afterAll(async () => {
    await j?.close();
  });

  it('Ollama: a 400 naming the backend, through the openai package, and nothing sent upstream', async () => {
    const client = new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
    const err = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], n: 2, stream: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).message).toContain('the ollama backend returns one reply per request (Ollama has no "n"); send 2 requests on 2 sessions');
    expect(j.fake!.requests).toHaveLength(0);
  });
});
