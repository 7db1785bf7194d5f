import type { Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemLog } from '../../../src/log/systemLog.js';
import { openRedis, whenReady } from '../../../src/streams/cluster/redis/redisClient.js';
import { RedisAffinity } from '../../../src/streams/cluster/upstreams/redisAffinity.js';
import { RedisHealthBoard } from '../../../src/streams/cluster/upstreams/redisHealthBoard.js';
import { healthKey } from '../../../src/streams/cluster/upstreams/upstreamKeys.js';
import { waitForLog } from '../../helpers/log.js';
import { redisUnavailable, startRedis, type TestRedis } from '../../helpers/services/redis.js';

// The servers' health and the sessions' affinity, shared by the instances of a cluster through a
// real redis-server (docs/upstreams.md "Across instances"): what one instance finds, the others use.

const skip = redisUnavailable();
let server: TestRedis | undefined;
let dir = '';
const connections: Redis[] = [];
const logs: SystemLog[] = [];

beforeAll(async () => {
  if (skip) return;
  server = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'jarvis-upstream-health-'));
});
afterAll(async () => {
  for (const c of connections) c.disconnect();
  for (const l of logs) await l.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function connect(): Promise<Redis> {
  const redis = openRedis(server!.url, 2000);
  connections.push(redis);
  await whenReady(redis, 5000);
  return redis;
}

async function board(instance: string, onUp: (name: string) => void = () => {}): Promise<{ board: RedisHealthBoard; file: string }> {
  const file = join(dir, `${instance}.log`);
  const log = new SystemLog({ file });
  logs.push(log);
  return { board: new RedisHealthBoard(await connect(), ['g1', 'g2'], log, instance, onUp, 50), file };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.skipIf(skip)('RedisHealthBoard and RedisAffinity', () => {
  it('a server found down by one instance is down for the others, with one back-off for the cluster, and up for all once one finds it up', async () => {
    const woken: string[] = [];
    const [a, b] = [await board('i1'), await board('i2', (name) => woken.push(name))];
    expect(b.board.get('g1').state).toBe('unknown');
    const before = Date.now();
    a.board.markDown('g1', 'connect ECONNREFUSED 10.0.0.5:11434');
    // This instance stops using it at once; the other within its refresh.
    expect(a.board.get('g1').state).toBe('down');
    await until(() => b.board.get('g1').state === 'down');
    const seen = b.board.get('g1');
    expect(seen.lastError).toBe('connect ECONNREFUSED 10.0.0.5:11434');
    expect(seen.downSince).toBeGreaterThanOrEqual(before);
    expect(seen.retryAt! - seen.downSince!).toBe(1000);
    const line = await waitForLog(b.file, 'upstream_down', { upstream: 'g1' });
    expect(line.fields.found_by).toBe('i1');
    // The other instance's request failing in the same outage, before the retry: the same back-off.
    b.board.markDown('g1', 'connect ECONNREFUSED 10.0.0.5:11434 (again)');
    // Once the other instance has read b's finding (its error), its back-off is still the first one.
    await until(() => /again/.test(a.board.get('g1').lastError ?? ''));
    expect(a.board.get('g1').retryAt).toBe(seen.retryAt);
    // A retry after it that fails doubles it, once, whoever retried.
    await until(() => Date.now() > seen.retryAt! + 5, 3000);
    a.board.markDown('g1', 'still refused');
    b.board.markDown('g1', 'still refused');
    // Both scripts have run (Redis holds the cluster's new back-off) and both instances have read it.
    const admin = await connect();
    let cluster = 0;
    await until(() => {
      void admin.hget(healthKey('g1'), 'retryAt').then((v) => (cluster = Number(v)));
      return cluster !== seen.retryAt && a.board.get('g1').retryAt === cluster && b.board.get('g1').retryAt === cluster;
    });
    const doubled = b.board.get('g1');
    expect(doubled.retryAt! - doubled.downSince!).toBeGreaterThanOrEqual(1000 + 2000);
    expect(doubled.retryAt! - doubled.downSince!).toBeLessThan(1000 + 2000 + 500);
    expect(a.board.get('g1').retryAt).toBe(doubled.retryAt);
    // Up, found by i1: i2 learns it (and logs it, with how long it was down), and its ledger is woken.
    a.board.markUp('g1');
    expect(woken).toEqual([]);
    await until(() => b.board.get('g1').state === 'up');
    expect(woken).toEqual(['g1']);
    expect(b.board.get('g1').lastError).toBe('still refused');
    const up = await waitForLog(b.file, 'upstream_up', { upstream: 'g1' });
    expect(Number(up.fields.down_ms)).toBeGreaterThan(1000);
    expect(b.board.get('g2').state).toBe('unknown');
    await a.board.close();
    await b.board.close();
  });

  it("a session's server is known to every instance, under a readable key that expires after 30 min idle", async () => {
    const [one, two] = [new RedisAffinity(await connect()), new RedisAffinity(await connect())];
    expect(await two.get('alice\u0000s-1')).toBeUndefined();
    one.set('alice\u0000s-1', 'gpu2');
    // `set` is not awaited (the router does not wait for it): the other instance sees it a round trip later.
    let found: string | undefined;
    for (let i = 0; i < 100 && found === undefined; i++) found = await two.get('alice\u0000s-1');
    expect(found).toBe('gpu2');
    expect(await two.get('bob\u0000s-1')).toBeUndefined();
    const admin = await connect();
    const ttl = await admin.pttl('jarvis:upstream:affinity:alice/s-1');
    expect(ttl).toBeGreaterThan(29 * 60_000);
    expect(ttl).toBeLessThanOrEqual(30 * 60_000);
  });
});
