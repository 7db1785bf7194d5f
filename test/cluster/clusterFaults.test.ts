import { afterEach, describe, expect, it } from 'vitest';
import { attach, call, chat, LEASE_MS, startCluster, type TestCluster } from '../helpers/cluster/cluster.js';
import { events, waitForLog } from '../helpers/log.js';
import { postgresUnavailable } from '../helpers/services/postgres.js';
import { redisUnavailable } from '../helpers/services/redis.js';

// Faults of a cluster (docs/clusters.md): an instance killed mid-stream, Redis gone, Redis
// restarted empty. Each test has its own cluster (two instances).

const skip = redisUnavailable() ?? postgresUnavailable();
let c: TestCluster | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});
const longPlan = (p: string) => ({ tokens: Array.from({ length: 4000 }, (_, i) => `${p}#${i} `), tokenMs: 5 });

describe.skipIf(skip)('cluster faults', () => {
  it('kill -9 of an instance mid-stream: its reader elsewhere gets error/lost within the lease, the session is free again', async () => {
    c = await startCluster(2);
    c.fake.plan = longPlan;
    const [i1, i2] = c.instances as [NonNullable<TestCluster['instances'][0]>, NonNullable<TestCluster['instances'][0]>];
    const a = chat(i1.url, 'killed', 'long-K');
    await a.tokensReached(10);
    const reader = attach(i2.url, a.streamId!, 2);
    await reader.tokensReached(8);
    i1.proc.kill('SIGKILL');
    const killedAt = Date.now();
    await reader.finished;
    expect(reader.terminal).toMatchObject({ type: 'error', code: 'lost' });
    expect(Date.now() - killedAt).toBeLessThan(LEASE_MS * 2 + 8000);
    const seqs = reader.tokens.map((t) => t.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => 3 + i));
    // The session is free: a new prompt starts without waiting for the dead instance.
    const b = chat(i2.url, 'killed', 'short');
    c.fake.plan = (p) => (p === 'short' ? { tokens: ['x ', 'y'], tokenMs: 1 } : longPlan(p));
    await b.finished;
    expect(b.terminal).toMatchObject({ type: 'done' });
    // Found by the reader or by the new prompt's acquire: either way i2, which recorded it, logs it.
    const lost = await waitForLog(i2.logFile, 'stream_lost', { trace: a.streamId! }, 10_000);
    expect(lost.fields).toMatchObject({ session: 'killed', prev_instance: 'i1', instance: 'i2' });
    expect(['reader', 'acquire']).toContain(lost.fields.found_by);
    const info = await call(i2.url, 'GET', `/v1/streams/${a.streamId}`);
    expect(info.body.terminal).toMatchObject({ code: 'lost' });
  }, 60_000);

  it('Redis unreachable: running streams go on, new prompts get 503 cluster_unavailable at once, and all is well once it is back', async () => {
    c = await startCluster(2);
    c.fake.plan = (p) => ({ tokens: Array.from({ length: 300 }, (_, i) => `${p}#${i} `), tokenMs: 5 });
    const [i1, i2] = c.instances as [NonNullable<TestCluster['instances'][0]>, NonNullable<TestCluster['instances'][0]>];
    const a = chat(i1.url, 'r-down', 'A');
    await a.tokensReached(5);
    await c.redis.kill();
    await expect.poll(async () => (await call(i2.url, 'GET', '/health')).body.cluster.redis, { timeout: 10_000 }).toBe('unavailable');
    const started = Date.now();
    const refused = await call(i2.url, 'POST', '/v1/chat/completions', { messages: [{ role: 'user', content: 'B' }] });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('cluster_unavailable');
    expect(Date.now() - started).toBeLessThan(3000);
    const stop = await call(i2.url, 'POST', '/v1/sessions/elsewhere/stop');
    expect(stop.status).toBe(503);
    await a.finished;
    expect(a.terminal).toMatchObject({ type: 'done' });
    expect(a.tokens).toHaveLength(300);
    await waitForLog(i1.logFile, 'redis_unavailable');
    await c.redis.start();
    await expect.poll(async () => (await call(i2.url, 'GET', '/health')).body.cluster.redis, { timeout: 15_000 }).toBe('ready');
    const b = chat(i2.url, 'r-down', 'B');
    await b.finished;
    expect(b.terminal).toMatchObject({ type: 'done' });
  }, 60_000);

  it('Redis restarted empty mid-stream: the owner writes the log back, a reader elsewhere gets no gap and no repeat, and a new prompt still supersedes', async () => {
    c = await startCluster(2);
    c.fake.plan = longPlan;
    const [i1, i2] = c.instances as [NonNullable<TestCluster['instances'][0]>, NonNullable<TestCluster['instances'][0]>];
    const a = chat(i1.url, 'r-restart', 'long-R');
    await a.tokensReached(20);
    const r1 = attach(i2.url, a.streamId!, -1);
    await r1.tokensReached(10);
    await c.redis.kill();
    await c.redis.start();
    await expect.poll(async () => (await call(i2.url, 'GET', '/health')).body.cluster.redis, { timeout: 15_000 }).toBe('ready');
    // The record is written back by the owner within a renewal: then a reader on i2 finds it again.
    await expect.poll(async () => (await call(i2.url, 'GET', `/v1/streams/${a.streamId}`)).status, { timeout: 15_000 }).toBe(200);
    r1.abort();
    // What r1 already received may still be handed on after abort(): resume from the last seq it got (docs/conversations.md).
    await r1.finished;
    const last = r1.lastSeq;
    const r2 = attach(i2.url, a.streamId!, last);
    await r2.tokensReached(last + 30);
    const b = chat(i2.url, 'r-restart', 'short');
    c.fake.plan = (p) => (p === 'short' ? { tokens: ['x ', 'y'], tokenMs: 1 } : longPlan(p));
    await Promise.all([a.finished, b.finished, r2.finished]);
    expect(a.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    expect(b.terminal).toMatchObject({ type: 'done' });
    const seqs = [...r1.tokens, ...r2.tokens].map((t) => t.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i));
    expect(r2.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    // The client's terminal can arrive before the server's log line is written: wait for it, then count.
    await waitForLog(i1.logFile, 'stream_end', { trace: a.streamId! });
    expect(events(i1.logFile, 'stream_end', { trace: a.streamId! })).toHaveLength(1);
  }, 60_000);
});
