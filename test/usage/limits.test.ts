import { afterEach, describe, expect, it } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { postJson } from '../helpers/chatClient.js';
import { waitForLog } from '../helpers/log.js';
import { ALICE_KEY, BOB_KEY, KEYS, OPS_KEY, awayFromMinuteEnd, bearer, ended, ndjsonChat } from './helpers.js';

// Limits per key in one process (docs/team.md "Usage and limits"): each refusal is a 429
// with Retry-After and a message that names the limit and its figure.

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});

const start = (limits: object) => startTestJarvis({ JARVIS_BACKEND: 'openai', ...KEYS, JARVIS_DEFAULT_LIMITS: JSON.stringify(limits) });
const ask = (key: string, body: object = {}) => postJson(`${j!.url}/v1/chat/completions`, { model: 'fake-llama:latest', messages: [{ role: 'user', content: 'hi' }], ...body }, bearer(key));

describe('limits per key, one process', () => {
  it('rpm: the third request of a minute is refused 429 with Retry-After and the limit in words; another key and an admin are not', async () => {
    await awayFromMinuteEnd();
    j = await start({ rpm: 2 });
    expect((await ask(ALICE_KEY)).status).toBe(200);
    expect((await ask(ALICE_KEY)).status).toBe(200);
    const refused = await ask(ALICE_KEY);
    expect(refused.status).toBe(429);
    const wait = Number(refused.headers.get('retry-after'));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(60);
    expect(refused.headers.get('x-jarvis-limit')).toBe('rpm');
    expect(refused.body.error).toEqual({ code: 'rate_limited', type: 'rate_limit_error', param: null, message: `this key may make 2 requests a minute (rpm); try again in ${wait} s` });
    expect((await ask(BOB_KEY)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await ask(OPS_KEY)).status).toBe(200);
    // Refused before anything started: three of alice's, one of bob's, three of the admin's ran.
    expect(j.fake!.requests).toHaveLength(6);
  });

  it('rpm counts embeddings too, on both APIs; an embedding holds no stream place', async () => {
    await awayFromMinuteEnd();
    j = await start({ rpm: 2, max_streams: 1 });
    const embed = (path: string, key: string = ALICE_KEY) => postJson(`${j!.url}${path}`, { model: 'fake-llama:latest', input: 'one two three' }, bearer(key));
    j.fake!.plan = (p) => ({ tokens: Array.from({ length: 2000 }, (_, i) => `${p}${i} `), tokenMs: 10 });
    // Alice has an answer streaming (her one place under max_streams): embeddings still go in.
    const live = ndjsonChat(j.url, ALICE_KEY, 'long', {}, 'e1');
    await live.tokensReached(2);
    expect((await embed('/v1/embeddings')).status).toBe(200);
    const refused = await embed('/api/embed');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-jarvis-limit')).toBe('rpm');
    expect(refused.body.error).toMatch(/^this key may make 2 requests a minute \(rpm\); try again in \d+ s$/);
    expect((await embed('/v1/embeddings')).body.error.code).toBe('rate_limited');
    expect((await embed('/v1/embeddings', BOB_KEY)).status).toBe(200);
  });

  it('tpm: once a minute\'s tokens reach the limit, the next request is refused', async () => {
    await awayFromMinuteEnd();
    j = await start({ tpm: 30 });
    // Each answer: 7 prompt + 20 completion tokens, as the server reports.
    for (let i = 0; i < 2; i++) {
      const res = await ask(ALICE_KEY);
      expect(res.status).toBe(200);
      await ended(j.logFile, res.headers);
    }
    const refused = await ask(ALICE_KEY);
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toMatch(/^this key may use 30 tokens a minute \(tpm\); try again in \d+ s$/);
  });

  it('max_streams: a second answer while one streams is refused (Retry-After: 1); once it ends, the next is let in', async () => {
    j = await start({ max_streams: 1 });
    j.fake!.plan = (p) => ({ tokens: Array.from({ length: 2000 }, (_, i) => `${p}${i} `), tokenMs: 10 });
    const first = ndjsonChat(j.url, ALICE_KEY, 'long', {}, 's1');
    await first.tokensReached(2);
    const refused = await ask(ALICE_KEY, { stream: true });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.error.message).toBe('this key may have 1 answer streaming at once (max_streams); try again once one of them has ended (in 1 s or later)');
    // Another key is not bounded by alice's streams.
    j.fake!.plan = (p) => ({ tokens: [`${p} `], tokenMs: 1 });
    expect((await ask(BOB_KEY)).status).toBe(200);
    first.abort();
    await waitForLog(j.logFile, 'stream_end', { reason: 'client_closed' });
    expect((await ask(ALICE_KEY)).status).toBe(200);
  });

  it('tokens_per_day: an answer that reaches the day\'s budget ends done/length naming the limit, the connection intact; the next request is refused until midnight UTC', async () => {
    j = await start({ tokens_per_day: 40 });
    j.fake!.plan = (p) => ({ tokens: Array.from({ length: 100 }, (_, i) => `${p}${i} `), tokenMs: 1 });
    const cut = ndjsonChat(j.url, ALICE_KEY, 'hi');
    const events = await cut.finished;
    // The prompt's estimate (5) leaves 35 tokens of the 40.
    expect(cut.tokens).toHaveLength(35);
    expect(events.at(-1)).toMatchObject({
      type: 'done',
      reason: 'length',
      limit: 'tokens_per_day',
      limit_message: "the answer stopped at this key's budget of 40 tokens a day, UTC (tokens_per_day); more tokens are available after midnight UTC",
    });
    // The model server was asked for no more than that.
    expect(j.fake!.requests[0]!.body).toMatchObject({ max_tokens: 35 });
    await ended(j.logFile, cut.headers);
    const refused = await ask(ALICE_KEY);
    expect(refused.status).toBe(429);
    const midnight = Math.ceil((Math.ceil(Date.now() / 86_400_000) * 86_400_000 - Date.now()) / 1000);
    expect(Math.abs(Number(refused.headers.get('retry-after')) - midnight)).toBeLessThanOrEqual(5);
    expect(refused.body.error.message).toMatch(/^this key may use 40 tokens a day, UTC \(tokens_per_day\); try again in \d+ s$/);
    // A request that fits in its own max_tokens is not marked.
    const small = ndjsonChat(j.url, BOB_KEY, 'hi', { max_tokens: 10 });
    expect((await small.finished).at(-1)).toMatchObject({ type: 'done', reason: 'length' });
    expect(small.terminal).not.toHaveProperty('limit');
  });
});
