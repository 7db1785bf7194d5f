import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusEvent, TerminalEvent } from '../../src/shared/events.js';
import { openRedis, whenReady } from '../../src/streams/cluster/redis/redisClient.js';
import { encodeItem, encodeTerminal, type Entry } from '../../src/streams/cluster/eventLog/redisEntries.js';
import { RedisEventLog, type RedisEventLogOptions } from '../../src/streams/cluster/eventLog/redisEventLog.js';
import { BEFORE_TOKENS, type LogCursor } from '../../src/streams/eventLog/types.js';
import { sessionKeys } from '../helpers/cluster/redisLayout.js';
import { sliceEvents, type LoggedEvent } from '../helpers/logSlices.js';
import { redisUnavailable, startRedis, type TestRedis } from '../helpers/services/redis.js';

// A reader of a stream's Redis log whose log vanishes under it (Redis restarted empty,
// staged here with FLUSHALL on a real redis-server): it waits for the owner to write the
// log back and goes on with no gap and no repeat, or, if nobody does in time, ends with
// error `answer_log_lost`, never silently (docs/security.md, "Redis restarted empty").

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

const PREFIX = sessionKeys('k', 's');

function statusOf(id: string): StatusEvent {
  return { type: 'status', status: 'thinking', stream_id: id, session_id: 's', trace_id: id, model: 'm' };
}

/** Token entries `from`…`to-1` ('t0 ', 't1 ', …) and the cursor after them. */
function tokens(from: number, to: number): { entries: Entry[]; cursor: LogCursor } {
  const entries: Entry[] = [];
  let cursor: LogCursor = { seq: from - 1, extra: 0 };
  for (let i = from; i < to; i++) {
    entries.push(encodeItem(`t${i} `, cursor));
    cursor = { seq: i, extra: 0 };
  }
  return { entries, cursor };
}

/** Reads the whole stream (after the status), collecting events, until it ends. */
function reader(log: RedisEventLog, id: string): { events: LoggedEvent[]; done: Promise<void>; tokensReached(n: number): Promise<void> } {
  const events: LoggedEvent[] = [];
  let wake = () => {};
  const done = (async () => {
    for await (const slice of log.read(id, BEFORE_TOKENS, AbortSignal.timeout(30_000))) {
      events.push(...sliceEvents(slice, id, 's'));
      wake();
    }
  })();
  const tokensReached = async (n: number) => {
    while (events.filter((e) => e.event.type === 'token').length < n) await new Promise<void>((r) => (wake = r));
  };
  return { events, done, tokensReached };
}

describe.skipIf(skip)('a Redis log that vanishes under a reader', () => {
  it('written back by its owner (same ids) within the wait: the reader goes on, no gap, no repeat, then the terminal', async () => {
    const vanished: unknown[] = [];
    const options: RedisEventLogOptions = { retentionMs: 60_000, leaseMs: 300, commandTimeoutMs: 2000, vanishedWaitMs: 10_000, onVanished: (v) => vanished.push(v) };
    const log = new RedisEventLog(redis!, options);
    await log.create(statusOf('v-1'), 'k', 1n);
    const first = tokens(0, 3);
    expect((await log.push(PREFIX, 'v-1', 1n, '1-0', first.entries)).result).toBe('ok');
    const r = reader(log, 'v-1');
    await r.tokensReached(3);
    await redis!.flushall();
    // The log stays away a while (the outage; longer than one XREAD BLOCK, so the reader has surely
    // looked and found it gone), then the owner writes it back whole, and goes on.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await log.create(statusOf('v-1'), 'k', 1n);
    const all = tokens(0, 6);
    const done: TerminalEvent = { type: 'done', reason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 6 }, stream_id: 'v-1', session_id: 's' };
    expect((await log.push(PREFIX, 'v-1', 1n, '1-0', [...all.entries, encodeTerminal(done, all.cursor)])).result).toBe('ok');
    await r.done;
    expect(r.events.map((e) => (e.event.type === 'token' ? e.event.seq : e.event.type))).toEqual([0, 1, 2, 3, 4, 5, 'done']);
    expect(vanished).toEqual([expect.objectContaining({ streamId: 'v-1', sessionId: 's', outcome: 'resumed', after: 2 })]);
  });

  it('not written back within the wait (its owner died too): the reader ends with error answer_log_lost', async () => {
    const vanished: unknown[] = [];
    const log = new RedisEventLog(redis!, { retentionMs: 60_000, leaseMs: 300, commandTimeoutMs: 2000, vanishedWaitMs: 1000, onVanished: (v) => vanished.push(v) });
    await log.create(statusOf('v-2'), 'k', 1n);
    expect((await log.push(PREFIX, 'v-2', 1n, '1-0', tokens(0, 2).entries)).result).toBe('ok');
    const r = reader(log, 'v-2');
    await r.tokensReached(2);
    await redis!.flushall();
    await r.done;
    const terminal = r.events.at(-1)?.event;
    expect(terminal).toMatchObject({ type: 'error', code: 'answer_log_lost', stream_id: 'v-2', session_id: 's' });
    expect((terminal as { message: string }).message).toMatch(/did not write it back within 1000 ms; reload the answer from its conversation/);
    expect(r.events.filter((e) => e.event.type === 'token')).toHaveLength(2);
    expect(vanished).toEqual([expect.objectContaining({ streamId: 'v-2', outcome: 'lost', after: 1 })]);
  });
});
