import { Ollama } from 'ollama';
import OpenAI, { BadRequestError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPlan } from '../../helpers/fakes/fakeUpstream.js';
import { fakeLogprob } from '../../helpers/fakes/fakeLogprobs.js';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';

// `logprobs` and `top_logprobs` through Jarvis (docs/api.md "Logprobs and n"), with the real
// openai and ollama packages, in front of a vLLM-shaped and an Ollama-shaped upstream: each
// token's values arrive intact, one entry per token, aligned with the text.

const MODEL = 'fake-llama:latest';
const PROMPT = 'lp';
const TOKENS = defaultPlan(PROMPT).tokens;
const EXPECTED = TOKENS.map((t) => fakeLogprob(t, 2));

describe.each(['openai', 'ollama'] as const)('logprobs in front of %s', (upstream) => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis(upstream === 'openai' ? { JARVIS_BACKEND: 'openai' } : {});
  });
  afterAll(async () => {
    await j?.close();
  });
  const lastUpstreamBody = () => j.fake!.requests.at(-1)!.body as Record<string, unknown>;
  const client = () => new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
  const messages = [{ role: 'user' as const, content: PROMPT }];

  it('openai: streamed, each chunk carries its token and that token’s logprobs', async () => {
    const stream = await client().chat.completions.create({ model: MODEL, messages, logprobs: true, top_logprobs: 2, stream: true });
    let text = '';
    const entries: OpenAI.Chat.Completions.ChatCompletionTokenLogprob[] = [];
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      const content = choice?.delta.content ?? '';
      const scored = choice?.logprobs?.content ?? [];
      // Aligned: a chunk's logprobs are the tokens of its own content.
      expect(scored.map((e) => e.token).join('')).toBe(content);
      text += content;
      entries.push(...scored);
    }
    expect(text).toBe(TOKENS.join(''));
    expect(entries).toEqual(EXPECTED);
    // Passed on as each upstream spells it.
    expect(lastUpstreamBody()).toMatchObject({ logprobs: true, top_logprobs: 2 });
  });

  it('openai: not streamed, the answer has logprobs.content for every token', async () => {
    const completion = await client().chat.completions.create({ model: MODEL, messages, logprobs: true, top_logprobs: 2, stream: false });
    expect(completion.choices[0]!.message.content).toBe(TOKENS.join(''));
    expect(completion.choices[0]!.logprobs?.content).toEqual(EXPECTED);
  });

  it('ollama package: chat streamed and generate not, through Jarvis’s Ollama API, in Ollama’s shape', async () => {
    const ollama = new Ollama({ host: j.url });
    let text = '';
    const entries: unknown[] = [];
    for await (const part of await ollama.chat({ model: MODEL, messages, logprobs: true, top_logprobs: 2, stream: true })) {
      text += part.message.content;
      if (part.logprobs) {
        expect(part.logprobs.map((e) => e.token).join('')).toBe(part.message.content);
        entries.push(...part.logprobs);
      }
    }
    expect(text).toBe(TOKENS.join(''));
    expect(entries).toEqual(EXPECTED);

    const generated = await ollama.generate({ model: MODEL, prompt: PROMPT, logprobs: true, top_logprobs: 2, stream: false });
    expect(generated.response).toBe(TOKENS.join(''));
    expect(generated.logprobs).toEqual(EXPECTED);
    expect(lastUpstreamBody()).toMatchObject({ logprobs: true, top_logprobs: 2 });

    // A raw prompt is a text completion upstream (Ollama's /api/generate, the legacy /v1/completions with `logprobs: 2`).
    const raw = await ollama.generate({ model: MODEL, prompt: PROMPT, raw: true, logprobs: true, top_logprobs: 2, stream: false });
    expect(raw.response).toBe(TOKENS.join(''));
    const strip = (e: { token: string; logprob: number; top_logprobs?: Array<{ token: string; logprob: number }> }) => ({
      token: e.token,
      logprob: e.logprob,
      top_logprobs: e.top_logprobs?.map((t) => ({ token: t.token, logprob: t.logprob })),
    });
    expect(raw.logprobs?.map(strip)).toEqual(EXPECTED.map(strip));
    expect(lastUpstreamBody()).toMatchObject(upstream === 'openai' ? { prompt: PROMPT, logprobs: 2 } : { prompt: PROMPT, raw: true, logprobs: true, top_logprobs: 2 });
  });

  it('Jarvis NDJSON: each token event carries its logprobs, live and read back from the stream’s log alike', async () => {
    const res = await fetch(`${j.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ model: MODEL, messages, logprobs: true, top_logprobs: 2 }),
    });
    const live = (await res.text()).trim().split('\n');
    const tokens = live.map((l) => JSON.parse(l) as { type: string; text?: string; logprobs?: unknown[] }).filter((e) => e.type === 'token');
    expect(tokens.map((e) => e.text)).toEqual(TOKENS);
    expect(tokens.flatMap((e) => e.logprobs)).toEqual(EXPECTED);
    const replayed = await (await fetch(`${j.url}/v1/streams/${res.headers.get('x-stream-id')}/events`)).text();
    expect(replayed.trim().split('\n')).toEqual(live);
  });

  it('a request without logprobs is unchanged: nothing asked upstream, the same chunk bytes as before', async () => {
    const res = await fetch(`${j.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages, stream: true }),
    });
    const body = await res.text();
    const tokenLine = body.split('\n\n').find((l) => l.includes(`"content":${JSON.stringify(TOKENS[0])}`))!;
    expect(tokenLine).toMatch(
      new RegExp(`^data: \\{"id":"chatcmpl-\\w+","object":"chat\\.completion\\.chunk","created":\\d+,"model":"fake-llama:latest","choices":\\[\\{"index":0,"delta":\\{"content":"lp#0 "\\},"logprobs":null,"finish_reason":null\\}\\]\\}$`),
    );
    const sent = lastUpstreamBody();
    expect(sent).not.toHaveProperty('logprobs');
    expect(sent).not.toHaveProperty('top_logprobs');
    expect(sent).not.toHaveProperty('n');
  });
});

describe('logprobs on the demo backend', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'demo' });
  });
  afterAll(async () => {
    await j?.close();
  });

  it('is a 400 that names the backend, in words, through the openai package and Ollama’s API', async () => {
    const client = new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
    const err = await client.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], model: 'demo', logprobs: true, stream: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).message).toContain('the demo backend cannot return logprobs; use Ollama or an OpenAI-compatible server');
    expect((err as BadRequestError).param).toBe('logprobs');

    const ollama = new Ollama({ host: j.url });
    await expect(ollama.chat({ model: 'demo', messages: [{ role: 'user', content: 'hi' }], logprobs: true })).rejects.toThrow(/the demo backend cannot return logprobs/);
  });
});
