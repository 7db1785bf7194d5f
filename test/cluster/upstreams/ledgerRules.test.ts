import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSlotLedger } from '../../../src/backends/routing/localLedger.js';
import type { SlotCandidate, SlotGrant, SlotLedger } from '../../../src/backends/routing/types.js';
import { openRedis, whenReady } from '../../../src/streams/cluster/redis/redisClient.js';
import { RedisSlotLedger } from '../../../src/streams/cluster/upstreams/redisSlotLedger.js';
import { redisUnavailable, startRedis, type TestRedis } from '../../helpers/services/redis.js';
import { seeded } from '../../helpers/scenarios/seeded.js';

// The cluster's ledger keeps the local ledger's rules (docs/upstreams.md "Queues"): the same
// seeded schedule of arrivals, Stops and releases, run on one LocalSlotLedger and on two
// RedisSlotLedgers (two instances, waiters spread over both), grants the same waiters the same
// servers in the same order. Two models share a server, so the order between queues counts too.

const skip = redisUnavailable();
let server: TestRedis | undefined;
const connections: Redis[] = [];

beforeAll(async () => {
  if (!skip) server = await startRedis();
});
afterAll(async () => {
  for (const c of connections) c.disconnect();
  await server?.stop();
});

const SERVERS: Record<string, SlotCandidate> = {
  g1: { name: 'g1', maxParallel: 2, weight: 1 },
  g2: { name: 'g2', maxParallel: 1, weight: 1 },
  g3: { name: 'g3', maxParallel: 1, weight: 2 },
};
const QUEUES: Record<string, SlotCandidate[]> = { m1: [SERVERS.g1!, SERVERS.g2!], m2: [SERVERS.g2!, SERVERS.g3!] };

type Step = { kind: 'arrive'; id: string; queue: string; owner: string; candidates: SlotCandidate[]; preferred?: string } | { kind: 'stop'; id: string } | { kind: 'release' };

function schedule(seed: number, length: number): Step[] {
  const random = seeded(seed);
  const steps: Step[] = [];
  const arrived: string[] = [];
  for (let i = 0; i < length; i++) {
    const r = random();
    if (r < 0.55 || arrived.length < 6) {
      const id = `s${i}`;
      const queue = random() < 0.5 ? 'm1' : 'm2';
      const preferred = random() < 0.2 ? QUEUES[queue]![random() < 0.5 ? 0 : 1]!.name : undefined;
      // Some requests of a queue have one server only (another left out: down, or tried), so waiters are skipped.
      const which = random();
      const candidates = which < 0.6 ? QUEUES[queue]! : [QUEUES[queue]![which < 0.8 ? 0 : 1]!];
      steps.push({ kind: 'arrive', id, queue, owner: `k${Math.floor(random() ** 2 * 4)}`, candidates, preferred });
      arrived.push(id);
    } else if (r < 0.7) steps.push({ kind: 'stop', id: arrived[Math.floor(random() * arrived.length)]! });
    else steps.push({ kind: 'release' });
  }
  return steps;
}

interface Trace {
  grants: string[];
  refusals: string[];
  /** The queues' lengths after the step (history only). */
  waiting?: number[];
}

/**
 * Runs the schedule: `settled` waits until every effect of a step is visible (the local ledger:
 * at once; Redis: the grants and queue lengths its polls report). A release frees the slot of the
 * holder whose id sorts first, so both runs free the same one as long as they agree.
 */
async function run(steps: Step[], ledgerFor: (i: number) => SlotLedger, settled: (expected: Trace | undefined) => Promise<number[]>, trace: Trace, expected?: Trace[]): Promise<Trace[]> {
  const held = new Map<string, SlotGrant>();
  const stops = new Map<string, AbortController>();
  const history: Trace[] = [];
  for (const [i, step] of steps.entries()) {
    if (step.kind === 'arrive') {
      const stop = new AbortController();
      stops.set(step.id, stop);
      ledgerFor(i)
        .acquire({ id: step.id, owner: step.owner, queue: step.queue, candidates: step.candidates, preferred: step.preferred }, stop.signal)
        .then(
          (grant) => {
            held.set(step.id, grant);
            trace.grants.push(`${step.id}@${grant.upstream}`);
          },
          (err: Error) => trace.refusals.push(`${step.id}:${err.name}`),
        );
    } else if (step.kind === 'stop') stops.get(step.id)!.abort(new Error('stopped'));
    else {
      const first = [...held.keys()].sort()[0];
      if (first !== undefined) {
        held.get(first)!.release();
        held.delete(first);
      }
    }
    const waiting = await settled(expected?.[i]);
    history.push({ grants: [...trace.grants], refusals: [...trace.refusals], waiting });
  }
  return history;
}

describe.skipIf(skip)('RedisSlotLedger keeps the local ledger rules', () => {
  it.each([1, 2, 3, 4, 5])('the same grants in the same order under seeded schedule %i', async (seed) => {
    const steps = schedule(seed, 100);
    const bounds = { maxQueue: 100, maxWaitMs: 60_000 };

    const local = new LocalSlotLedger(bounds);
    const localTrace: Trace = { grants: [], refusals: [] };
    const localSettled = async () => {
      await new Promise((r) => setImmediate(r));
      return ['m1', 'm2'].map((q) => local.queued(q));
    };
    const expected = await run(steps, () => local, localSettled, localTrace);
    await local.close();

    const admin = openRedis(server!.url, 2000);
    connections.push(admin);
    await whenReady(admin, 5000);
    await admin.flushall();
    const ledgers: RedisSlotLedger[] = [];
    for (const id of ['i1', 'i2']) {
      const redis = openRedis(server!.url, 2000);
      connections.push(redis);
      await whenReady(redis, 5000);
      ledgers.push(new RedisSlotLedger(redis, { instance: id, leaseMs: 3000, bounds }));
    }
    const trace: Trace = { grants: [], refusals: [] };
    // Each step's effects, as the local run saw them, are in Redis and delivered before the next step
    // (a Stop's leave goes on its instance's connection, the next release maybe on the other one).
    const settled = async (want: Trace | undefined) => {
      const deadline = performance.now() + 3000;
      for (;;) {
        const waiting = [await admin.zcard('jarvis:{upstreams}:q:m1'), await admin.zcard('jarvis:{upstreams}:q:m2')];
        const done = trace.grants.length >= want!.grants.length && trace.refusals.length >= want!.refusals.length && waiting.join() === want!.waiting!.join();
        if (done) return waiting;
        if (performance.now() > deadline) {
          expect({ grants: trace.grants, waiting }).toEqual({ grants: want!.grants, waiting: want!.waiting });
          throw new Error('the Redis ledger did not reach the local one within 3 s');
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await run(steps, (i) => ledgers[i % 2]!, settled, trace, expected);
    // Closing refuses the waiters left, in both (upstream_busy: shutting down).
    for (const l of ledgers) await l.close();
    await new Promise((r) => setImmediate(r));
    expect(trace.grants).toEqual(localTrace.grants);
    expect(trace.refusals.sort()).toEqual(localTrace.refusals.sort());
    expect(localTrace.grants.length).toBeGreaterThan(20);

  });
});
