import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster/cluster.js';
import { postJson } from '../helpers/chatClient.js';
import { waitForLog } from '../helpers/log.js';
import { postgresUnavailable } from '../helpers/services/postgres.js';
import { redisUnavailable } from '../helpers/services/redis.js';
import { ALICE_KEY, BOB_KEY, CAROL_KEY, DAVE_KEY, ERIN_KEY, KEYS, OPS_KEY, awayFromMinuteEnd, bearer, ended, ndjsonChat, usageUntil } from './helpers.js';

// Limits per key across three instances on one Redis and one Postgres (docs/team.md "Usage and
// limits"): every instance counts a key's requests, streams and tokens in Redis, so a limit
// holds for the cluster as a whole, whichever instance a request reaches.

const skip = redisUnavailable() ?? postgresUnavailable();
let c: TestCluster;
const url = (i: number) => c.instances[i]!.url;
const logOf = (i: number) => c.instances[i]!.logFile;
const ask = (i: number, key: string, session?: string) =>
  postJson(`${url(i)}/v1/chat/completions`, { model: 'fake-llama:latest', messages: [{ role: 'user', content: 'hi' }] }, { ...bearer(key), ...(session ? { 'x-session-id': session } : {}) });

describe.skipIf(skip)('limits across three instances (Redis)', () => {
  beforeAll(async () => {
    c = await startCluster(3, { ...KEYS, JARVIS_DEFAULT_LIMITS: JSON.stringify({ rpm: 3, tpm: 30, max_streams: 2, tokens_per_day: 40 }) });
  }, 120_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('rpm 3: one request on each instance, then the fourth is refused on every instance; the admin is not limited', async () => {
    await awayFromMinuteEnd(20);
    c.fake.plan = (p) => ({ tokens: [`${p} `], tokenMs: 1 });
    for (let i = 0; i < 3; i++) expect((await ask(i, ALICE_KEY, `a${i}`)).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const refused = await ask(i, ALICE_KEY);
      expect(refused.status).toBe(429);
      expect(refused.body.error.message).toMatch(/^this key may make 3 requests a minute \(rpm\); try again in \d+ s$/);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    for (let i = 0; i < 3; i++) expect((await ask(i, OPS_KEY, `o${i}`)).status).toBe(200);
  });

  it('tpm 30: requests on two instances use 34 tokens; the next, on the third, is refused', async () => {
    await awayFromMinuteEnd(20);
    // Each answer: 7 prompt + 10 completion tokens, as the fake Ollama reports them.
    c.fake.plan = (p) => ({ tokens: Array.from({ length: 10 }, (_, i) => `${p}${i} `), tokenMs: 1 });
    for (let i = 0; i < 2; i++) {
      const res = await ask(i, DAVE_KEY, `d${i}`);
      expect(res.status).toBe(200);
      await ended(logOf(i), res.headers);
    }
    const refused = await ask(2, DAVE_KEY);
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toMatch(/^this key may use 30 tokens a minute \(tpm\); try again in \d+ s$/);
  });

  it('max_streams 2: streams on two instances, a third on the third instance is refused; when one ends, it is let in', async () => {
    // Slow: the day's budget (40 tokens) caps each answer at 35 tokens, and these must stay live meanwhile.
    c.fake.plan = (p) => ({ tokens: Array.from({ length: p === 'long' ? 3000 : 1 }, (_, i) => `${p}${i} `), tokenMs: p === 'long' ? 300 : 1 });
    const first = ndjsonChat(url(0), BOB_KEY, 'long', {}, 'b1');
    const second = ndjsonChat(url(1), BOB_KEY, 'long', {}, 'b2');
    await Promise.all([first.tokensReached(2), second.tokensReached(2)]);
    const refused = await ask(2, BOB_KEY, 'b3');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.error.message).toMatch(/\(max_streams\)/);
    first.abort();
    await waitForLog(logOf(0), 'stream_end', { reason: 'client_closed' });
    expect((await ask(2, BOB_KEY, 'b3')).status).toBe(200);
    second.abort();
    await waitForLog(logOf(1), 'stream_end', { reason: 'client_closed' });
  });

  it('max_streams: the places of an instance killed with SIGKILL are freed once their lease ends', async () => {
    await awayFromMinuteEnd(20);
    // Slow: the day's budget (40 tokens) caps each answer at 35 tokens, and these must stay live meanwhile.
    c.fake.plan = (p) => ({ tokens: Array.from({ length: p === 'long' ? 3000 : 1 }, (_, i) => `${p}${i} `), tokenMs: p === 'long' ? 300 : 1 });
    const doomed = await c.spawn('i4');
    const onDoomed = ndjsonChat(doomed.url, ERIN_KEY, 'long', {}, 'e1');
    const live = ndjsonChat(url(0), ERIN_KEY, 'long', {}, 'e2');
    await Promise.all([onDoomed.tokensReached(2), live.tokensReached(2)]);
    expect((await ask(1, ERIN_KEY, 'e3')).status).toBe(429);
    doomed.proc.kill('SIGKILL');
    await doomed.exited;
    const killedAt = Date.now();
    let admitted = 0;
    while (admitted !== 200) {
      admitted = (await ask(1, ERIN_KEY, 'e3')).status;
      expect([200, 429]).toContain(admitted);
      expect(Date.now() - killedAt).toBeLessThan(10_000);
      if (admitted !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    live.abort();
    await live.finished;
  });

  it('tokens_per_day 40: an answer on one instance stops at the budget (done/length, limit named); the next, on another, is refused; a lost Redis counter is read again from the usage record', async () => {
    c.fake.plan = (p) => ({ tokens: Array.from({ length: 100 }, (_, i) => `${p}${i} `), tokenMs: 1 });
    const cut = ndjsonChat(url(0), CAROL_KEY, 'hi');
    await cut.finished;
    expect(cut.tokens).toHaveLength(35);
    expect(cut.terminal).toMatchObject({ type: 'done', reason: 'length', limit: 'tokens_per_day' });
    await ended(logOf(0), cut.headers);
    const refused = await ask(1, CAROL_KEY);
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toMatch(/\(tokens_per_day\)/);

    // Redis loses the day's counter (a restart, an eviction): it is read again from usage_daily in Postgres.
    await usageUntil(url(2), CAROL_KEY, (body) => body.totals.completion_tokens === 35);
    const redis = new Redis(c.redis.url);
    try {
      const keys = await redis.keys('jarvis:{limit:env%3Acarol}:day:*');
      expect(keys).toHaveLength(1);
      await redis.del(keys[0]!);
      const again = await ask(2, CAROL_KEY);
      expect(again.status).toBe(429);
      expect(again.body.error.message).toMatch(/\(tokens_per_day\)/);
      expect(await redis.get(keys[0]!)).toBe('40');
    } finally {
      redis.disconnect();
    }
  });
});
