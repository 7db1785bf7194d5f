import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { openRedis, whenReady } from '../../src/streams/cluster/redis/redisClient.js';
import { RedisEventLog } from '../../src/streams/cluster/eventLog/redisEventLog.js';
import { redisUnavailable, startRedis, type TestRedis } from '../helpers/services/redis.js';
import type { StatusEvent, TerminalEvent } from '../../src/shared/events.js';
import { MemoryEventLog } from '../../src/streams/eventLog/memoryEventLog.js';
import { BEFORE_TOKENS, compareCursors, formatCursor, FROM_START, type LogCursor, type LogItem, type StreamEventLog } from '../../src/streams/eventLog/types.js';
import { sliceEvents, type LoggedEvent } from '../helpers/logSlices.js';

// The StreamEventLog contract (docs/conversations.md), one suite for every
// implementation: MemoryEventLog, and RedisEventLog on a real redis-server.

interface Impl {
  name: string;
  make(options: { retentionMs: number; maxCharsPerStream?: number; maxEndedLogs?: number; maxTotalChars?: number }): StreamEventLog;
  /** Property runs (a remote log costs a round trip per append). */
  runs: number;
  /** Text bounds per log and over all logs (the memory log's; Redis caps entries with MAXLEN instead). */
  textBounds: boolean;
  /** Reads woken by a `pace` when asked (Redis's are woken by its stream, and ignore it). */
  pacedReads: boolean;
}

let redisServer: TestRedis | undefined;
let redisClient: Redis | undefined;
const redisLogs: RedisEventLog[] = [];
const IMPLEMENTATIONS: Impl[] = [
  { name: 'MemoryEventLog', make: (o) => new MemoryEventLog(o), runs: 150, textBounds: true, pacedReads: true },
  ...(redisUnavailable()
    ? []
    : [
        {
          name: 'RedisEventLog',
          make: (o: { retentionMs: number }) => {
            const log = new RedisEventLog(redisClient!, { retentionMs: o.retentionMs, leaseMs: 3000, commandTimeoutMs: 2000 });
            redisLogs.push(log);
            return log;
          },
          runs: 40,
          textBounds: false,
          pacedReads: false,
        },
      ]),
];

beforeAll(async () => {
  if (redisUnavailable()) return;
  redisServer = await startRedis();
  redisClient = openRedis(redisServer.url, 2000);
  await whenReady(redisClient, 10_000);
}, 30_000);

afterAll(async () => {
  for (const log of redisLogs) await log.close();
  redisClient?.disconnect();
  await redisServer?.stop();
});

const FENCE = 7n;
let counter = 0;
const status = (id: string): StatusEvent => ({ type: 'status', status: 'thinking', stream_id: id, session_id: `s-${id}`, trace_id: id, model: 'm' });
const done = (id: string, n: number): TerminalEvent => ({ type: 'done', reason: 'stop', usage: { prompt_tokens: 1, completion_tokens: n }, stream_id: id, session_id: `s-${id}` });
const text = (seq: number) => `t${seq} `;
const tick = () => new Promise((r) => setImmediate(r));

/** Reads to the end (or until `stopAfter` events), optionally pausing between slices like a slow reader. */
async function readAll(log: StreamEventLog, id: string, after: LogCursor, opts: { slow?: boolean; stopAfter?: number } = {}): Promise<LoggedEvent[]> {
  const got: LoggedEvent[] = [];
  const ac = new AbortController();
  for await (const slice of log.read(id, after, ac.signal)) {
    for (const e of sliceEvents(slice, id, `s-${id}`)) {
      got.push(e);
      if (opts.stopAfter !== undefined && got.length >= opts.stopAfter) {
        ac.abort();
        return got;
      }
    }
    if (opts.slow) await tick();
  }
  return got;
}

/** Every event of a stream whose items were `items`, with their cursors (computed apart from any log). */
function allEvents(id: string, items: LogItem[], n: number): LoggedEvent[] {
  return sliceEvents({ status: status(id), from: BEFORE_TOKENS, items, terminal: done(id, n) }, id, `s-${id}`);
}
const shape = (events: LoggedEvent[]) => events.map((e) => `${formatCursor(e.cursor)} ${e.event.type}${e.event.type === 'token' || e.event.type === 'reasoning' ? ` ${e.event.text}` : ''}`);
/** What a reader attached at `after` must get: every event after it, once, in order. */
const expected = (all: LoggedEvent[], after: LogCursor) => shape(after.seq < -1 ? all : all.filter((e) => compareCursors(e.cursor, after) > 0));

describe.each(IMPLEMENTATIONS)('StreamEventLog contract: $name', ({ make, runs, textBounds, pacedReads }) => {
  it('a reader attached at a random cursor while the producer appends gets every later event once, in order (no gap, no repeat)', async () => {
    const op = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('append' as const), count: fc.integer({ min: 1, max: 40 }), reasoning: fc.integer({ min: 0, max: 3 }) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('attach' as const), back: fc.integer({ min: -3, max: 45 }), slow: fc.boolean() }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), after: fc.integer({ min: 1, max: 30 }), slow: fc.boolean() }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('yield' as const), times: fc.integer({ min: 1, max: 3 }) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
        const log = make({ retentionMs: 60_000 });
        const id = `p${counter++}`;
        await log.create(status(id), '', FENCE);
        const items: LogItem[] = [];
        let n = 0;
        let r = 0;
        const readers: Array<{ after: LogCursor; got: Promise<LoggedEvent[]> }> = [];
        for (const o of ops) {
          if (o.kind === 'append') {
            for (let i = 0; i < o.count; i++) {
              // Reasoning pieces among the tokens, as a thinking model sends them.
              const item: LogItem = i < o.reasoning ? { kind: 'reasoning', text: `r${r}`, seq: r++ } : text(n++);
              items.push(item);
              expect(await log.append(id, item, FENCE)).toBe('ok');
            }
          } else if (o.kind === 'attach') {
            // Anywhere from "everything" to a little ahead of the producer.
            const known = allEvents(id, items, n).slice(0, -1);
            const at = known.length - 1 - o.back;
            const after = at < 0 ? FROM_START : at >= known.length ? { seq: n + (at - known.length), extra: 0 } : known[at]!.cursor;
            readers.push({ after, got: readAll(log, id, after, { slow: o.slow }) });
          } else if (o.kind === 'drop') {
            // A reader that drops after some events and reattaches after the last cursor it got.
            const first = await readAll(log, id, FROM_START, { stopAfter: Math.min(o.after, items.length + 1), slow: o.slow });
            const last = first.at(-1)!;
            const rest = last.event.type === 'done' ? Promise.resolve([]) : readAll(log, id, last.cursor, { slow: o.slow });
            readers.push({ after: FROM_START, got: rest.then((more) => [...first, ...more]) });
          } else {
            for (let i = 0; i < o.times; i++) await tick();
          }
        }
        expect(await log.finish(id, done(id, n), FENCE)).toBe(true);
        const all = allEvents(id, items, n);
        for (const reader of readers) expect(shape(await reader.got)).toEqual(expected(all, reader.after));
        // A reader attaching after the end gets the rest at once; at the end, nothing.
        for (const e of [{ cursor: FROM_START }, ...all]) expect(shape(await readAll(log, id, e.cursor))).toEqual(expected(all, e.cursor));
        expect(await readAll(log, id, all.at(-1)!.cursor)).toEqual([]);
        await log.close();
      }),
      { numRuns: runs },
    );
  }, 120_000);

  it('an ended answer of tokens only (kept compact once ended) reads back whole from every cursor, and from one that was reading before the end', async () => {
    const log = make({ retentionMs: 60_000 });
    const id = `packed${counter++}`;
    await log.create(status(id), '', FENCE);
    const items: LogItem[] = [];
    for (let i = 0; i < 400; i++) {
      // Empty and multi-byte tokens too: offsets, not separators, keep them apart.
      const item = i % 97 === 0 ? '' : i % 13 === 0 ? `é${i}€ ` : text(i);
      items.push(item);
      expect(await log.append(id, item, FENCE)).toBe('ok');
    }
    const ac = new AbortController();
    const live = log.read(id, { seq: 300, extra: 0 }, ac.signal)[Symbol.asyncIterator]();
    const first = await live.next();
    expect(first.done).toBe(false);
    expect(await log.finish(id, done(id, items.length), FENCE)).toBe(true);
    const all = allEvents(id, items, items.length);
    for (const e of [{ cursor: FROM_START }, ...all]) expect(shape(await readAll(log, id, e.cursor))).toEqual(expected(all, e.cursor));
    expect((await log.info(id))?.tokens).toBe(items.length);
    // The reader that was reading before the end gets the rest, however the log slices it, and nothing twice.
    const read = [...(first.value?.items ?? [])];
    for (let r = await live.next(); !r.done; r = await live.next()) read.push(...r.value.items);
    expect(read).toEqual(items.slice(301));
    ac.abort();
    await log.close();
  });

  it('the producer never waits for a reader: appends return while a reader reads nothing', async () => {
    const log = make({ retentionMs: 60_000 });
    const id = `nw${counter++}`;
    await log.create(status(id), '', FENCE);
    const ac = new AbortController();
    const it = log.read(id, FROM_START, ac.signal)[Symbol.asyncIterator]();
    await it.next(); // the status; then the reader stops pulling
    // Had an append waited for the reader, this loop would never finish.
    for (let seq = 0; seq < 10_000; seq++) expect(await log.append(id, 'x', FENCE)).toBe('ok');
    const next = await it.next();
    expect(next.value).toMatchObject({ from: BEFORE_TOKENS, items: Array(1024).fill('x') });
    ac.abort();
    expect((await it.next()).done).toBe(true);
  }, 60_000);

  it('refuses writers with another fence, writes the terminal once, refuses tokens after it', async () => {
    const log = make({ retentionMs: 60_000 });
    const id = `f${counter++}`;
    await log.create(status(id), '', FENCE);
    expect(await log.append(id, 'a', FENCE + 1n)).toBe('fenced');
    expect(await log.append(id, 'a', FENCE)).toBe('ok');
    expect(await log.finish(id, done(id, 1), FENCE - 1n)).toBe(false);
    expect(await log.finish(id, done(id, 1), FENCE)).toBe(true);
    expect(await log.finish(id, done(id, 1), FENCE)).toBe(false);
    expect(await log.append(id, 'b', FENCE)).toBe('stopped');
    expect(await log.info(id)).toMatchObject({ streamId: id, sessionId: `s-${id}`, owner: '', tokens: 1, terminal: { type: 'done' } });
  });

  it('unknown streams: no info, an empty read, refused writes', async () => {
    const log = make({ retentionMs: 60_000 });
    expect(await log.info('nope')).toBeUndefined();
    expect(await readAll(log, 'nope', FROM_START)).toEqual([]);
    expect(await log.append('nope', 'x', FENCE)).toBe('stopped');
    expect(await log.finish('nope', done('nope', 0), FENCE)).toBe(false);
  });

  it('keeps an ended log for the retention time, then it is gone', async () => {
    const log = make({ retentionMs: 150 });
    const id = `r${counter++}`;
    await log.create(status(id), 'alice', FENCE);
    await log.append(id, 'a', FENCE);
    await new Promise((r) => setTimeout(r, 250));
    expect(await log.info(id)).toBeDefined(); // live logs never expire
    await log.finish(id, done(id, 1), FENCE);
    expect((await log.info(id))?.owner).toBe('alice');
    await expect.poll(() => log.info(id), { timeout: 5000, interval: 20 }).toBeUndefined();
    expect(await readAll(log, id, FROM_START)).toEqual([]);
  });

  it('a paced read (woken by a clock, not by every append) gets the same events, and is woken at once by the end', async () => {
    const log = make({ retentionMs: 60_000 });
    const id = `paced${counter++}`;
    await log.create(status(id), '', FENCE);
    // A clock ticked by hand; once the stream has ended the reader waits for appends again (as the recorder does).
    let ended = false;
    const ticks: Array<() => void> = [];
    let paces = 0;
    const pace = () => {
      if (ended) return undefined;
      paces++;
      return new Promise<void>((resolve) => ticks.push(resolve));
    };
    const tickAll = () => {
      for (const wake of ticks.splice(0)) wake();
    };
    const got: LoggedEvent[] = [];
    let slices = 0;
    const reading = (async () => {
      for await (const slice of log.read(id, FROM_START, new AbortController().signal, { pace })) {
        slices++;
        got.push(...sliceEvents(slice, id, `s-${id}`));
      }
    })();
    // The reader has its status event and has caught up before the first token.
    for (let i = 0; i < 5; i++) await tick();
    const items: LogItem[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 10; i++) {
        const item = text(items.length);
        items.push(item);
        expect(await log.append(id, item, FENCE)).toBe('ok');
      }
      for (let i = 0; i < 5; i++) await tick();
      tickAll();
      for (let i = 0; i < 5; i++) await tick();
    }
    // The end wakes a paced reader at once: no tick comes after it (an answer's final write must not wait for one).
    expect(await log.finish(id, done(id, items.length), FENCE)).toBe(true);
    ended = true;
    await reading;
    expect(shape(got)).toEqual(expected(allEvents(id, items, items.length), FROM_START));
    // A log that paces its readers woke this one at the ticks (a slice a round), not at each of the 50 appends.
    if (pacedReads) {
      expect(paces).toBeGreaterThanOrEqual(5);
      expect(slices).toBeLessThanOrEqual(8);
    }
    await log.close();
  });

  it('an aborted read ends at once, even while waiting for tokens', async () => {
    const log = make({ retentionMs: 60_000 });
    const id = `a${counter++}`;
    await log.create(status(id), '', FENCE);
    const ac = new AbortController();
    const reading = readAll(log, id, BEFORE_TOKENS).then(() => 'ended');
    const aborted = (async () => {
      for await (const _ of log.read(id, BEFORE_TOKENS, ac.signal)) void _;
      return 'ended';
    })();
    ac.abort();
    expect(await aborted).toBe('ended');
    await log.finish(id, done(id, 0), FENCE);
    expect(await reading).toBe('ended');
  });

  it.runIf(textBounds)('bounds each log and all logs together; ended logs are evicted oldest first', async () => {
    const log = make({ retentionMs: 60_000, maxCharsPerStream: 10, maxTotalChars: 25, maxEndedLogs: 2 });
    const ids = [0, 1, 2].map((i) => `b${counter++}-${i}`);
    for (const id of ids) await log.create(status(id), '', FENCE);
    expect(await log.append(ids[0]!, '12345678', FENCE)).toBe('ok');
    expect(await log.append(ids[0]!, '123', FENCE)).toBe('full'); // 11 > 10 per stream
    expect(await log.append(ids[1]!, '12345678', FENCE)).toBe('ok');
    expect(await log.append(ids[2]!, '12345678', FENCE)).toBe('ok');
    expect(await log.append(ids[2]!, '12', FENCE)).toBe('full'); // 26 > 25 in all, and nothing has ended
    await log.finish(ids[0]!, done(ids[0]!, 1), FENCE);
    expect(await log.append(ids[2]!, '12', FENCE)).toBe('ok'); // the ended log made room
    expect(await log.info(ids[0]!)).toBeUndefined();
    // Past maxEndedLogs, the oldest ended log goes.
    const more = [0, 1, 2].map((i) => `e${counter++}-${i}`);
    for (const id of more) {
      await log.create(status(id), '', FENCE);
      await log.finish(id, done(id, 0), FENCE);
    }
    expect(await log.info(more[0]!)).toBeUndefined();
    expect(await log.info(more[2]!)).toBeDefined();
  });
});
