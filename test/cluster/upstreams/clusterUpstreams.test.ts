import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JarvisEvent } from '../../../src/shared/events.js';
import { call, chat, LEASE_MS, startCluster, type TestCluster } from '../../helpers/cluster/cluster.js';
import { FakeOllama } from '../../helpers/fakes/fakeOllama.js';
import { events, waitForLog } from '../../helpers/log.js';
import { postgresUnavailable } from '../../helpers/services/postgres.js';
import { redisUnavailable } from '../../helpers/services/redis.js';

// Three Jarvis instances on one Redis in front of two model servers with max_parallel
// (docs/upstreams.md "Across instances"): however the streams spread over the instances,
// the servers' own records show they never had more than max_parallel at once; a conversation
// keeps its server from instance to instance; a server one instance finds down is down for all;
// an instance killed with SIGKILL gives its slots back within its lease, not before.

const skip = redisUnavailable() ?? postgresUnavailable();
let c: TestCluster;
let a: FakeOllama;
let b: FakeOllama;

const queued = (e: JarvisEvent) => e.type === 'status' && (e as { status: string }).status === 'queued';

beforeAll(async () => {
  if (skip) return;
  a = await new FakeOllama().start();
  b = await new FakeOllama().start();
  c = await startCluster(3, { JARVIS_UPSTREAMS: `a=ollama:${a.url};max_parallel=2,b=ollama:${b.url};max_parallel=3` });
}, 60_000);
afterAll(async () => {
  await c?.stop();
  await a?.stop();
  await b?.stop();
});

describe.skipIf(skip)('three instances, one Redis, servers with max_parallel', () => {
  it('never give a server more than its max_parallel together, and queue the rest', async () => {
    a.plan = b.plan = (prompt) => ({ tokens: Array.from({ length: 8 }, (_, i) => `${prompt}.${i} `), tokenMs: 25 });
    const streams = Array.from({ length: 30 }, (_, i) => chat(c.instances[i % 3]!.url, `mp-${i}`, `p${i}`));
    await Promise.all(streams.map((s) => s.finished));
    for (const s of streams) expect(s.terminal).toMatchObject({ type: 'done' });
    // The servers' own counts: at their max_parallel, never above.
    expect(a.maxActive).toBe(2);
    expect(b.maxActive).toBe(3);
    // Each prompt was sent once, to one server; those that found both full waited, told their place.
    const sent = [...a.requests, ...b.requests].map((r) => r.prompt).sort();
    expect(sent).toEqual(streams.map((_, i) => `p${i}`).sort());
    expect(streams.filter((s) => s.events.some(queued)).length).toBeGreaterThanOrEqual(10);
    // Every instance queued some (the queue is the cluster's, not one instance's).
    for (const p of c.instances) expect(events(p.logFile, 'upstream_queued').length).toBeGreaterThan(0);
  });

  it('keeps a conversation on its server whichever instance takes its next prompt', async () => {
    const plan = (prompt: string) => (prompt === 'hold' ? { tokens: Array.from({ length: 2000 }, (_, i) => `${i} `), tokenMs: 20 } : { tokens: [`${prompt}.`], tokenMs: 1 });
    a.plan = b.plan = plan;
    // a busy, the conversation's first prompt goes to b; then a is idle, and the least busy (a) would be picked without affinity.
    const hold = chat(c.instances[0]!.url, 'sticky-hold', 'hold');
    await hold.tokensReached(1);
    expect(a.active).toBe(1);
    await chat(c.instances[0]!.url, 'sticky', 'sticky-0').finished;
    await call(c.instances[0]!.url, 'POST', '/v1/sessions/sticky-hold/stop', {});
    await hold.finished;
    for (let i = 1; i < 6; i++) {
      const s = chat(c.instances[i % 3]!.url, 'sticky', `sticky-${i}`);
      await s.finished;
      expect(s.terminal).toMatchObject({ type: 'done' });
    }
    expect(b.requests.filter((r) => r.prompt.startsWith('sticky-')).length).toBe(6);
  });

  it('avoids on every instance a server one instance found down', async () => {
    const plan = (prompt: string) => (prompt.startsWith('hold') ? { tokens: Array.from({ length: 2000 }, (_, i) => `${i} `), tokenMs: 20 } : { tokens: [`${prompt}.`], tokenMs: 1 });
    a.plan = plan;
    b.plan = (prompt) => (prompt === 'breaks-b' ? { tokens: [], tokenMs: 1, fault: 'http_500' } : plan(prompt));
    // Three long streams fill a (least busy for its weight: a, b, a); the next request can only go to b.
    const holds = [];
    for (let i = 0; i < 3; i++) {
      holds.push(chat(c.instances[0]!.url, `hold-${i}`, `hold-${i}`));
      await holds[i]!.tokensReached(1);
    }
    expect([a.active, b.active]).toEqual([2, 1]);
    const breaks = chat(c.instances[0]!.url, 'breaks', 'breaks-b');
    await b.waitForRequest((r) => r.prompt === 'breaks-b');
    // i1 found it failing (and moved the request to a's queue); i2 learns it from Redis.
    const seen = await waitForLog(c.instances[1]!.logFile, 'upstream_down', { upstream: 'b' }, 3000);
    expect(seen.fields.found_by).toBe('i1');
    for (let i = 0; i < 3; i++) await call(c.instances[0]!.url, 'POST', `/v1/sessions/hold-${i}/stop`, {});
    await breaks.finished;
    expect(breaks.terminal).toMatchObject({ type: 'done' });
    // Its back-off over, a probe finds it up again, and every instance uses it again.
    for (const p of c.instances) await waitForLog(p.logFile, 'upstream_up', { upstream: 'b' }, 5000);
  });

  it("frees a killed instance's slots within its lease, and not before", async () => {
    a.plan = b.plan = (prompt) => ({ tokens: Array.from({ length: 2000 }, (_, i) => `${prompt}.${i} `), tokenMs: 20 });
    const i3 = c.instances[2]!;
    const held = Array.from({ length: 5 }, (_, i) => chat(i3.url, `kill-${i}`, `k${i}`));
    await Promise.all(held.map((s) => s.tokensReached(1)));
    expect([a.active, b.active]).toEqual([2, 3]);
    const exited = i3.exited;
    i3.proc.kill('SIGKILL');
    await exited;
    const killedAt = performance.now();
    // Its connections closed with it; its slots in Redis stay until their lease passes.
    a.plan = b.plan = (prompt) => ({ tokens: [`${prompt}.`], tokenMs: 1 });
    const next = chat(c.instances[0]!.url, 'after-kill', 'after');
    await next.waitFor(queued);
    await next.finished;
    const waited = performance.now() - killedAt;
    expect(next.terminal).toMatchObject({ type: 'done' });
    expect(waited).toBeLessThan(LEASE_MS + 1500);
    expect(waited).toBeGreaterThan(LEASE_MS / 3);
    expect(a.maxActive).toBe(2);
    expect(b.maxActive).toBe(3);
  });
});
