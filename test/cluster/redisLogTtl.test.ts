import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis, whenReady } from '../../src/streams/cluster/redis/redisClient.js';
import { encodeItem, encodeTerminal } from '../../src/streams/cluster/eventLog/redisEntries.js';
import { RedisEventLog } from '../../src/streams/cluster/eventLog/redisEventLog.js';
import type { StatusEvent } from '../../src/shared/events.js';
import { sessionKeys, streamKeys } from '../helpers/cluster/redisLayout.js';
import { redisUnavailable, startRedis, type TestRedis } from '../helpers/services/redis.js';

// A running stream's keys in Redis live liveTtlMs and are extended by its writer every
// tenth of that, not at every batch (three PEXPIREs per batch were most of a token's
// Redis commands); the terminal always sets them to the retention. On a real redis-server.

const skip = redisUnavailable();
let server: TestRedis | undefined;
let redis: Redis | undefined;

beforeAll(async () => {
  if (skip) return;
  server = await startRedis();
  redis = openRedis(server.url, 2000);
  await whenReady(redis, 10_000);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

describe.skipIf(skip)('Redis stream keys: expiry', () => {
  it('a batch extends the keys only when asked; the terminal sets the retention', async () => {
    const log = new RedisEventLog(redis!, { retentionMs: 60_000, leaseMs: 3000, commandTimeoutMs: 2000, liveTtlMs: 600_000 });
    const status: StatusEvent = { type: 'status', status: 'thinking', stream_id: 'ttl-1', session_id: 's', trace_id: 'ttl-1', model: 'm' };
    await log.create(status, 'k', 1n);
    const prefix = sessionKeys('k', 's');
    const { meta, log: stream, index } = streamKeys('k', 's', 'ttl-1');
    // Shorten the keys' life, as time would: a batch without the refresh leaves it alone.
    for (const key of [meta, stream, index]) await redis!.pexpire(key, 100_000);
    const first = encodeItem('a', { seq: -1, extra: 0 });
    expect((await log.push(prefix, 'ttl-1', 1n, '1-0', [first], false)).result).toBe('ok');
    for (const key of [meta, stream, index]) expect(await redis!.pttl(key)).toBeLessThanOrEqual(100_000);
    // With it, all three are extended to liveTtlMs.
    const second = encodeItem('b', { seq: 0, extra: 0 });
    expect((await log.push(prefix, 'ttl-1', 1n, first.id, [second], true)).result).toBe('ok');
    for (const key of [meta, stream, index]) expect(await redis!.pttl(key)).toBeGreaterThan(500_000);
    // The terminal sets the retention, asked or not.
    const end = encodeTerminal({ type: 'done', finish_reason: 'stop' } as never, { seq: 1, extra: 0 });
    expect((await log.push(prefix, 'ttl-1', 1n, second.id, [end], false)).result).toBe('ok');
    for (const key of [meta, stream, index]) {
      const ttl = await redis!.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
    expect(log.ttlRefreshDue(0, 59_999)).toBe(false);
    expect(log.ttlRefreshDue(0, 60_000)).toBe(true);
  });
});
