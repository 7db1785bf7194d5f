import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SlotCandidate, SlotGrant, SlotRequest } from '../../../src/backends/routing/types.js';
import { BackendError } from '../../../src/backends/types.js';
import { ClusterUnavailableError } from '../../../src/streams/coordinator.js';
import { openRedis, whenReady } from '../../../src/streams/cluster/redis/redisClient.js';
import { RedisSlotLedger } from '../../../src/streams/cluster/upstreams/redisSlotLedger.js';
import { ledgerKeys } from '../../../src/streams/cluster/upstreams/upstreamKeys.js';
import { redisUnavailable, startRedis, type TestRedis } from '../../helpers/services/redis.js';

// The cluster's slot ledger on a real redis-server, several ledgers standing for several
// instances (each with its own connection, as each Jarvis has): together they never give a
// server more than its max_parallel, one fair order across them, bounds, Stop, and a dead
// instance's slots freed within the lease (docs/upstreams.md "Across instances").

const skip = redisUnavailable();
const LEASE_MS = 600;
let server: TestRedis | undefined;
const opened: Array<{ ledger: RedisSlotLedger; redis: Redis }> = [];

beforeAll(async () => {
  if (!skip) server = await startRedis();
});
afterEach(async () => {
  for (const { ledger, redis } of opened.splice(0)) {
    await ledger.close();
    redis.disconnect();
  }
  // Each test starts from an empty Redis.
  const admin = openRedis(server!.url, 2000);
  await whenReady(admin, 5000);
  await admin.flushall();
  admin.disconnect();
});
afterAll(async () => {
  await server?.stop();
});

async function instance(id: string, bounds = { maxQueue: 100, maxWaitMs: 10_000 }): Promise<{ ledger: RedisSlotLedger; redis: Redis }> {
  const redis = openRedis(server!.url, 2000);
  await whenReady(redis, 5000);
  const ledger = new RedisSlotLedger(redis, { instance: id, leaseMs: LEASE_MS, bounds });
  const it = { ledger, redis };
  opened.push(it);
  return it;
}

const gpu = (name: string, maxParallel: number, weight = 1): SlotCandidate => ({ name, maxParallel, weight });
const req = (id: string, owner: string, candidates: SlotCandidate[], preferred?: string): SlotRequest => ({ id, owner, queue: 'm', candidates, preferred });
const never = (): AbortSignal => new AbortController().signal;

describe.skipIf(skip)('RedisSlotLedger', () => {
  it('holds max_parallel across three instances under 60 concurrent acquirers', async () => {
    const ledgers = await Promise.all(['i1', 'i2', 'i3'].map((id) => instance(id)));
    const candidates = [gpu('a', 2), gpu('b', 3, 2)];
    const now = new Map<string, number>();
    const most = new Map<string, number>();
    let done = 0;
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const { ledger } = ledgers[i % 3]!;
        const grant = await ledger.acquire(req(`s${i}`, `k${i % 4}`, candidates), never());
        const held = (now.get(grant.upstream) ?? 0) + 1;
        now.set(grant.upstream, held);
        most.set(grant.upstream, Math.max(most.get(grant.upstream) ?? 0, held));
        await new Promise((r) => setTimeout(r, 5 + ((i * 7) % 20)));
        now.set(grant.upstream, now.get(grant.upstream)! - 1);
        grant.release();
        done++;
      }),
    );
    expect(done).toBe(60);
    expect(most.get('a')).toBe(2);
    expect(most.get('b')).toBe(3);
  });

  it('a waiter is not given a slot on a server found down since it came while another of its servers is not', async () => {
    const { ledger, redis } = await instance('i1');
    const candidates = [gpu('a', 1), gpu('b', 1)];
    const onA = await ledger.acquire(req('s1', 'k', candidates), never());
    const onB = await ledger.acquire(req('s2', 'k', candidates), never());
    expect([onA.upstream, onB.upstream]).toEqual(['a', 'b']);
    let granted: SlotGrant | undefined;
    const waiting = ledger.acquire(req('s3', 'k', candidates), never()).then((g) => (granted = g));
    await expect.poll(() => ledger.queued('m'), { timeout: 5000 }).toBe(1);
    // The health board found a down (its `down` set, as RedisHealthBoard writes it): a's freed slot is not given.
    await redis.zadd(ledgerKeys.down, Date.now() + 60_000, 'a');
    onA.release();
    ledger.wake();
    const a = await ledger.acquire(req('probe', 'k2', [gpu('a', 1)]), never());
    expect(a.upstream).toBe('a');
    a.release();
    expect(granted).toBeUndefined();
    onB.release();
    expect((await waiting).upstream).toBe('b');
  });

  it('picks the preferred server while it has room, else the least busy for its weight', async () => {
    const { ledger } = await instance('i1');
    const candidates = [gpu('a', 4), gpu('b', 4, 2)];
    const grants: SlotGrant[] = [];
    const take = async (id: string, preferred?: string) => {
      const g = await ledger.acquire(req(id, '', candidates, preferred), never());
      grants.push(g);
      return g.upstream;
    };
    // (0+1)/1 = 1 vs (0+1)/2: b; then (1+1)/2 = 1 ties a's 1: a (the order given); then b.
    expect([await take('s1'), await take('s2'), await take('s3')]).toEqual(['b', 'a', 'b']);
    expect(await take('s4', 'a')).toBe('a');
    expect(ledger.active('a')).toBe(2);
    for (const g of grants) g.release();
  });

  it('grants waiters in fair order across instances: a new key is not put behind a burst', async () => {
    const [one, two] = [await instance('i1'), await instance('i2')];
    const solo = [gpu('a', 1)];
    const first = await one.ledger.acquire(req('h', 'holder', solo), never());
    const order: string[] = [];
    const positions = new Map<string, number[]>();
    const wait = (ledger: RedisSlotLedger, id: string, owner: string) =>
      ledger
        .acquire(req(id, owner, solo), never(), (p) => positions.set(id, [...(positions.get(id) ?? []), p]))
        .then((g) => {
          order.push(id);
          g.release();
        });
    const burst = [];
    for (let i = 1; i <= 4; i++) burst.push(await waitQueued(one.ledger, () => wait(one.ledger, `A${i}`, 'alice'), i));
    const newcomer = await waitQueued(two.ledger, () => wait(two.ledger, 'B1', 'bob'), 5);
    // bob's first waiter goes right after alice's first: tags A1..A4 = 1..4, B1 = 1.
    expect(positions.get('B1')).toEqual([2]);
    // An instance with no waiter of its own counts the cluster's (its renewal reads every queue).
    const three = await instance('i3');
    await until(() => three.ledger.queued('m') === 5 && three.ledger.queued() === 5);
    first.release();
    await Promise.all([...burst, newcomer].map((w) => w.done));
    expect(order).toEqual(['A1', 'B1', 'A2', 'A3', 'A4']);
  });

  it('a Stop leaves the queue: the slot goes to the next waiter, none is taken for the stopped one', async () => {
    const [one, two] = [await instance('i1'), await instance('i2')];
    const solo = [gpu('a', 1)];
    const first = await one.ledger.acquire(req('h', 'k', solo), never());
    const stop = new AbortController();
    const stopped = two.ledger.acquire(req('gone', 'k', solo), stop.signal);
    const next = one.ledger.acquire(req('next', 'k', solo), never());
    await until(async () => (await one.redis.zcard('jarvis:{upstreams}:q:m')) === 2);
    stop.abort(new Error('stopped by the user'));
    const err = (await stopped.catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('AbortError');
    expect((err.cause as Error).message).toBe('stopped by the user');
    await until(async () => (await one.redis.zcard('jarvis:{upstreams}:q:m')) === 1);
    first.release();
    const grant = await next;
    expect(grant.upstream).toBe('a');
    expect(grant.waitedMs).toBeGreaterThan(0);
    expect(await one.redis.zrange('jarvis:{upstreams}:s:a', 0, -1)).toEqual(['i1:next']);
    grant.release();
  });

  it('refuses one waiter past the queue bound at once, and a wait past maxWaitMs, with upstream_busy', async () => {
    const { ledger } = await instance('i1', { maxQueue: 2, maxWaitMs: 400 });
    const solo = [gpu('a', 1)];
    const held = await ledger.acquire(req('h', 'k', solo), never());
    const started = performance.now();
    const waiting = [ledger.acquire(req('w1', 'k', solo), never()), ledger.acquire(req('w2', 'k', solo), never())];
    const refused = await ledger.acquire(req('w3', 'k', solo), never()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BackendError);
    expect((refused as BackendError).code).toBe('upstream_busy');
    expect((refused as BackendError).message).toMatch(/2 requests already wait in its queue across the cluster.*JARVIS_UPSTREAM_QUEUE=2/);
    for (const w of waiting) {
      const err = (await w.catch((e: unknown) => e)) as BackendError;
      expect(err.code).toBe('upstream_busy');
      expect(err.message).toMatch(/JARVIS_UPSTREAM_QUEUE_TIMEOUT_MS/);
    }
    expect(performance.now() - started).toBeGreaterThanOrEqual(380);
    held.release();
  });

  it("frees a dead instance's slots and queue places within the lease, and keeps a live one's past it", async () => {
    const [dead, live] = [await instance('dead'), await instance('live')];
    const solo = [gpu('a', 1)];
    await dead.ledger.acquire(req('d1', 'k', [gpu('b', 1)]), never());
    // A live holder keeps its slot for three leases: its renewals hold it.
    const kept = await live.ledger.acquire(req('l1', 'k', solo), never());
    const blocked = live.ledger.acquire(req('l2', 'k', solo), never());
    void dead.ledger.acquire(req('d2', 'k', solo), never()).catch(() => {});
    await new Promise((r) => setTimeout(r, 3 * LEASE_MS));
    expect(await live.redis.zrange('jarvis:{upstreams}:s:a', 0, -1)).toEqual(['live:l1']);
    // The dead instance goes silent, as SIGKILL leaves it: no release, no renewal, no poll.
    dead.redis.disconnect();
    const diedAt = performance.now();
    const onB = live.ledger.acquire(req('l3', 'k', [gpu('b', 1)]), never());
    const grantB = await onB;
    expect(performance.now() - diedAt).toBeLessThan(LEASE_MS + 500);
    // Its waiter d2 was ahead of l2: gone with it (its lease passed), it does not take the slot l1 frees.
    await until(async () => (await live.redis.zcard('jarvis:{upstreams}:q:m')) === 1);
    kept.release();
    expect((await blocked).upstream).toBe('a');
    grantB.release();
  });

  it('after Redis comes back empty, held slots are written back and waiters join again; without Redis, acquire refuses', async () => {
    const [one, two] = [await instance('i1'), await instance('i2')];
    const solo = [gpu('a', 1)];
    const held = await one.ledger.acquire(req('h', 'k', solo), never());
    const waiting = two.ledger.acquire(req('w', 'k', solo), never());
    await until(() => two.ledger.queued('m') === 1);
    await one.redis.flushall();
    // The holder's renewal (every lease/3) writes its slot back, the waiter's poll finds its place gone and joins again.
    await until(async () => (await one.redis.zrange('jarvis:{upstreams}:s:a', 0, -1)).join() === 'i1:h');
    await until(async () => (await one.redis.zcard('jarvis:{upstreams}:q:m')) === 1);
    expect(await one.redis.zrange('jarvis:{upstreams}:s:a', 0, -1)).toEqual(['i1:h']);
    held.release();
    expect((await waiting).upstream).toBe('a');
    // Redis away: refused at once, as the session rules are (a stream ends cluster_unavailable).
    two.redis.disconnect();
    const refused = await two.ledger.acquire(req('x', 'k', solo), never()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ClusterUnavailableError);
    expect((refused as Error).message).toMatch(/Redis \(REDIS_URL\) cannot be reached/);
  });
});

/** Starts a waiter and resolves once the ledger counts `count` in the queue (with its end, wrapped: an async function would wait for it). */
async function waitQueued(ledger: RedisSlotLedger, start: () => Promise<void>, count: number): Promise<{ done: Promise<void> }> {
  const done = start();
  await until(() => ledger.queued('m') >= count);
  return { done };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
