import Anthropic from '@anthropic-ai/sdk';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { postJson } from '../helpers/chatClient.js';
import { events as logEvents } from '../helpers/log.js';
import { ALICE_KEY, BOB_KEY, CAROL_KEY, KEYS, awayFromMinuteEnd, bearer, ndjsonChat } from './helpers.js';

// What the real client packages (openai, @anthropic-ai/sdk, ollama) see of a key's limits
// (docs/team.md "Usage and limits"): a 429 in each API's own error shape, which each
// package reads as its rate-limit error, and an answer cut at the day's budget as each
// API's length end, with Jarvis's `limit` beside it.

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});

const start = (limits: object, backend = 'openai') => startTestJarvis({ JARVIS_BACKEND: backend, ...KEYS, JARVIS_DEFAULT_LIMITS: JSON.stringify(limits) });
const openai = (key: string) => new OpenAI({ baseURL: `${j!.url}/v1`, apiKey: key, maxRetries: 0 });
const anthropic = (key: string) => new Anthropic({ baseURL: j!.url, apiKey: key, maxRetries: 0 });
const ollama = (key: string) => new Ollama({ host: j!.url, headers: bearer(key) });
const RPM = /^this key may make 1 request a minute \(rpm\); try again in \d+ s$/;
const BUDGET = "the answer stopped at this key's budget of 40 tokens a day, UTC (tokens_per_day); more tokens are available after midnight UTC";
const messages = [{ role: 'user' as const, content: 'hi' }];

describe('limits as the client packages see them', () => {
  it('rpm refusals: OpenAI chat, completions and responses (RateLimitError), Anthropic (rate_limit_error), Ollama (ResponseError 429), Jarvis NDJSON and a conversation prompt', async () => {
    await awayFromMinuteEnd(20);
    j = await start({ rpm: 1 });
    expect((await openai(ALICE_KEY).chat.completions.create({ model: 'fake-llama:latest', messages })).choices[0]!.finish_reason).toBe('stop');

    const chat = await openai(ALICE_KEY).chat.completions.create({ model: 'fake-llama:latest', messages }).catch((e: unknown) => e);
    expect(chat).toBeInstanceOf(OpenAI.RateLimitError);
    const e = chat as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e.status).toBe(429);
    expect(e.code).toBe('rate_limited');
    expect(e.type).toBe('rate_limit_error');
    expect(e.error).toMatchObject({ message: expect.stringMatching(RPM) });
    expect(Number(e.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);

    for (const refused of [
      await openai(ALICE_KEY).chat.completions.create({ model: 'fake-llama:latest', messages, stream: true }).catch((x: unknown) => x),
      await openai(ALICE_KEY).completions.create({ model: 'fake-llama:latest', prompt: 'hi' }).catch((x: unknown) => x),
      await openai(ALICE_KEY).responses.create({ model: 'fake-llama:latest', input: 'hi' }).catch((x: unknown) => x),
      await openai(ALICE_KEY).responses.create({ model: 'fake-llama:latest', input: 'hi', background: true, store: true }).catch((x: unknown) => x),
    ]) {
      expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
      expect((refused as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('rate_limited');
    }

    const claude = await anthropic(ALICE_KEY).messages.create({ model: 'fake-llama:latest', max_tokens: 50, messages }).catch((x: unknown) => x);
    expect(claude).toBeInstanceOf(Anthropic.RateLimitError);
    const ce = claude as InstanceType<typeof Anthropic.RateLimitError>;
    expect(ce.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error', code: 'rate_limited', message: expect.stringMatching(RPM) } });
    expect(Number(ce.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);

    await expect(ollama(ALICE_KEY).chat({ model: 'fake-llama:latest', messages })).rejects.toMatchObject({ name: 'ResponseError', status_code: 429, error: expect.stringMatching(RPM) });
    await expect(ollama(ALICE_KEY).generate({ model: 'fake-llama:latest', prompt: 'hi', stream: true })).rejects.toMatchObject({ status_code: 429, error: expect.stringMatching(RPM) });

    const ndjson = ndjsonChat(j.url, ALICE_KEY, 'hi');
    await ndjson.finished;
    expect(ndjson.status).toBe(429);
    expect(ndjson.body).toMatchObject({ error: { code: 'rate_limited', type: 'rate_limit_error', message: expect.stringMatching(RPM) } });

    const conv = await postJson(`${j.url}/v1/conversations`, { title: 'x' }, bearer(ALICE_KEY));
    const prompt = await postJson(`${j.url}/v1/conversations/${conv.body.id}/messages`, { content: 'hi' }, bearer(ALICE_KEY));
    expect(prompt.status).toBe(429);
    expect(prompt.body.error).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(RPM) });
    // Only the first request reached the model server.
    expect(j.fake!.requests).toHaveLength(1);
  });

  it('tokens_per_day mid-answer: OpenAI finish_reason length, Anthropic stop_reason max_tokens, Ollama done_reason length, each with `limit`; then each client\'s 429', async () => {
    j = await start({ tokens_per_day: 40 }, 'ollama');
    j.fake!.plan = (p) => ({ tokens: Array.from({ length: 100 }, (_, i) => `${p}${i} `), tokenMs: 1 });

    const chunks: any[] = [];
    for await (const chunk of await openai(ALICE_KEY).chat.completions.create({ model: 'fake-llama:latest', messages, stream: true })) chunks.push(chunk);
    const last = chunks.findLast((c) => c.choices[0]?.finish_reason);
    expect(last.choices[0]).toMatchObject({ finish_reason: 'length', limit: 'tokens_per_day', limit_message: BUDGET });

    const events: any[] = [];
    for await (const event of await anthropic(BOB_KEY).messages.create({ model: 'fake-llama:latest', max_tokens: 1000, messages, stream: true })) events.push(event);
    expect(events.find((e) => e.type === 'message_delta').delta).toMatchObject({ stop_reason: 'max_tokens', limit: 'tokens_per_day', limit_message: BUDGET });

    const parts: any[] = [];
    for await (const part of await ollama(CAROL_KEY).chat({ model: 'fake-llama:latest', messages, stream: true })) parts.push(part);
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: 'length', limit: 'tokens_per_day', limit_message: BUDGET });

    // Each has used its day: the next request of each is refused, in its client's shape.
    await expect.poll(() => logEvents(j!.logFile, 'stream_end').length, { timeout: 10_000 }).toBe(3);
    await expect(openai(ALICE_KEY).chat.completions.create({ model: 'fake-llama:latest', messages })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await expect(anthropic(BOB_KEY).messages.create({ model: 'fake-llama:latest', max_tokens: 10, messages })).rejects.toMatchObject({ status: 429, error: { error: { type: 'rate_limit_error' } } });
    await expect(ollama(CAROL_KEY).chat({ model: 'fake-llama:latest', messages })).rejects.toMatchObject({ status_code: 429, error: expect.stringMatching(/tokens_per_day/) });
  });
});
