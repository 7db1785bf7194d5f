import { sleep } from '../../../shared/sleep.js';
import type { Redis } from 'ioredis';
import type { StatusEvent, TerminalEvent } from '../../../shared/events.js';
import { keys } from '../redis/keys.js';
import { CHECK_LOST, PUSH } from '../redis/scripts.js';
import { compareIds, cursorOf, decode, encodeItem, encodeTerminal, followsDirectly, idOf, type Entry } from './redisEntries.js';
import { advance, FROM_START, type AppendResult, type LogCursor, type LogItem, type LogSlice, type StreamEventLog, type StreamLogInfo } from '../../eventLog/types.js';

export interface RedisEventLogOptions {
  /** How long a log stays readable after its terminal event (JARVIS_STREAM_RETENTION_MS). */
  retentionMs: number;
  /** A live log's expiry, refreshed by every write: a stream whose writer vanished still goes away. */
  liveTtlMs?: number;
  /** The lease (JARVIS_LEASE_MS): a reader that sees nothing for this long checks whether the owner is gone. */
  leaseMs: number;
  /** Bound on every command (JARVIS_REDIS_TIMEOUT_MS); blocking reads get it on top of their block time. */
  commandTimeoutMs: number;
  /** Entries per log at most (XADD MAXLEN ~): above any answer's max_tokens, so never trimmed under a reader. */
  maxLen?: number;
  /** Readers that may block on XREAD at once (each holds one connection); the rest poll. */
  maxBlockingReaders?: number;
  /** A reader found a gap or lost Redis: loud, once per read. */
  onReadError?: (streamId: string, sessionId: string, error: string) => void;
  /**
   * A reader's log vanished under it (Redis restarted empty, or the log expired): after waiting for
   * the owner to write it back, it `resumed`, or gave up (`lost`) and ended with `answer_log_lost`.
   */
  onVanished?: (vanished: { streamId: string; sessionId: string; outcome: 'resumed' | 'lost'; after: number; waitedMs: number }) => void;
  /** How long a reader whose log vanished waits for it to come back (default: max(5 s, 3 leases)). */
  vanishedWaitMs?: number;
  /** A reader found the stream's owner gone (its lease lapsed) and recorded the stream lost. */
  onLost?: (lost: { streamId: string; sessionId: string; owner: string; instance: string }) => void;
}

/** One XREAD BLOCK wait, ms: short enough for a reader that left to give its connection back soon. */
const BLOCK_MS = 1000;
const SLICE = 1024;
/**
 * What one reader's read from Redis holds at most, about (docs/security.md "Connections, feed
 * followers and reattach readers"): a reader that does not read keeps its last read until it
 * does, so the number of entries asked for follows their size (1 to SLICE entries).
 */
const READ_BYTES = 256 * 1024;

/** The next read's COUNT: as many entries as fit READ_BYTES at the last read's size per entry. */
export function nextReadCount(count: number, raw: readonly RawEntry[]): number {
  if (raw.length === 0) return count;
  let bytes = 0;
  for (const [, fields] of raw) for (const f of fields) bytes += f.length;
  const perEntry = Math.max(1, bytes / raw.length);
  return Math.max(1, Math.min(SLICE, Math.floor(READ_BYTES / perEntry)));
}

export type PushResult = { result: 'ok' | 'gone' | 'fenced' | 'ended' } | { result: 'rewind'; lastId: string } | { result: 'stopped'; reason: string };

interface Writer {
  prefix: string;
  fence: bigint;
  cursor: LogCursor;
  lastId: string;
  queue: { entry: Entry; resolve: (r: AppendResult) => void }[];
  flushing: boolean;
  ended: boolean;
}

export type RawEntry = [id: string, fields: string[]];

/**
 * A stream's event log in a Redis Stream, readable from every instance
 * (docs/clusters.md): writes are one Lua script that checks the writer's
 * fence, the terminal and the stop marker; readers XRANGE the backlog, then XREAD
 * BLOCK from the last id they have, drop repeats, and treat a gap as an error.
 *
 * In a cluster the owner writes through ClusterEventLog's mirror (which can write
 * a wiped log back from its memory log); `create`/`append`/`finish` are the plain
 * contract, used by the contract suite and usable on their own.
 */
export class RedisEventLog implements StreamEventLog {
  private readonly writers = new Map<string, Writer>();
  private readonly idle: Redis[] = [];
  private blocking = 0;
  private closed = false;
  private readonly closing = new AbortController();

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisEventLogOptions,
  ) {
    redis.defineCommand('jarvisPush', { numberOfKeys: 1, lua: PUSH });
    redis.defineCommand('jarvisCheckLost', { numberOfKeys: 1, lua: CHECK_LOST });
  }

  get liveTtlMs(): number {
    return this.options.liveTtlMs ?? Math.max(this.options.retentionMs, 10 * 60_000);
  }

  /** Whether a running stream's keys, last extended at `lastRefresh` (performance.now()), are due for it again: every tenth of their life. */
  ttlRefreshDue(lastRefresh: number, now = performance.now()): boolean {
    return now - lastRefresh >= this.liveTtlMs / 10;
  }

  /**
   * Writes entries after `expectedLastId`, as one atomic step (see scripts.ts PUSH).
   * `refreshTtl`: also extend the running stream's keys to liveTtlMs (see `ttlRefreshDue`).
   */
  async push(prefix: string, streamId: string, fence: bigint, expectedLastId: string, entries: Entry[], refreshTtl = true): Promise<PushResult> {
    const args: string[] = [streamId, fence.toString(), expectedLastId, String(this.options.maxLen ?? 100_000), String(this.liveTtlMs), String(this.options.retentionMs), refreshTtl ? '1' : '0'];
    for (const e of entries) args.push(e.id, e.type, e.value);
    const r = (await (this.redis as unknown as RedisScripts).jarvisPush(prefix, ...args)) as string[];
    if (r[0] === 'rewind') return { result: 'rewind', lastId: r[1] ?? '0-0' };
    if (r[0] === 'stopped') return { result: 'stopped', reason: r[1] ?? 'stopped' };
    return { result: r[0] as 'ok' | 'gone' | 'fenced' | 'ended' };
  }

  // ---- the plain contract: one writer per stream, in this process ----

  async create(status: StatusEvent, owner: string, fence: bigint): Promise<void> {
    const prefix = `jarvis:{${owner}/${status.session_id}}:`;
    const meta = keys.meta(prefix, status.stream_id);
    const log = keys.log(prefix, status.stream_id);
    const ttl = this.liveTtlMs;
    await this.redis
      .multi()
      .del(meta, log)
      .hset(meta, { fence: fence.toString(), owner, session: status.session_id, model: status.model, inst: '' })
      .xadd(log, '1-0', 't', 's', 'v', JSON.stringify(status))
      .pexpire(meta, ttl)
      .pexpire(log, ttl)
      .set(keys.stream(status.stream_id), prefix, 'PX', ttl)
      .exec();
    this.writers.set(status.stream_id, { prefix, fence, cursor: { seq: -1, extra: 0 }, lastId: '1-0', queue: [], flushing: false, ended: false });
  }

  append(streamId: string, item: LogItem, fence: bigint): Promise<AppendResult> {
    const w = this.writers.get(streamId);
    if (!w || w.ended) return Promise.resolve('stopped');
    if (w.fence !== fence) return Promise.resolve('fenced');
    const entry = encodeItem(item, w.cursor);
    w.cursor = advance(w.cursor, item);
    return this.enqueue(streamId, w, entry);
  }

  async finish(streamId: string, event: TerminalEvent, fence: bigint): Promise<boolean> {
    const w = this.writers.get(streamId);
    if (!w || w.ended || w.fence !== fence) return false;
    const entry = encodeTerminal(event, w.cursor);
    w.ended = true;
    const r = await this.enqueue(streamId, w, entry);
    this.writers.delete(streamId);
    return r === 'ok';
  }

  /** Appends are batched: whatever queued while one write was out goes in the next, in order. */
  private enqueue(streamId: string, w: Writer, entry: Entry): Promise<AppendResult> {
    return new Promise((resolve) => {
      w.queue.push({ entry, resolve });
      if (!w.flushing) void this.flush(streamId, w);
    });
  }

  private async flush(streamId: string, w: Writer): Promise<void> {
    w.flushing = true;
    while (w.queue.length > 0) {
      const batch = w.queue.splice(0, SLICE);
      let result: AppendResult;
      try {
        const r = await this.push(w.prefix, streamId, w.fence, w.lastId, batch.map((b) => b.entry));
        result = r.result === 'ok' ? 'ok' : r.result === 'fenced' ? 'fenced' : 'stopped';
        if (r.result === 'ok') w.lastId = (batch[batch.length - 1] as { entry: Entry }).entry.id;
      } catch {
        result = 'stopped';
      }
      for (const b of batch) b.resolve(result);
    }
    w.flushing = false;
  }

  // ---- readers, on any instance ----

  async info(streamId: string): Promise<StreamLogInfo | undefined> {
    const prefix = await this.redis.get(keys.stream(streamId));
    if (!prefix) return undefined;
    const [metaR, lastR] = (await this.redis
      .multi()
      .hgetall(keys.meta(prefix, streamId))
      .xrevrange(keys.log(prefix, streamId), '+', '-', 'COUNT', 1)
      .exec()) as [[Error | null, Record<string, string>], [Error | null, RawEntry[]]];
    const meta = metaR[1];
    const last = lastR[1][0];
    if (!meta || meta.session === undefined || !last) return undefined;
    const cursor = cursorOf(last[0]);
    return {
      streamId,
      sessionId: meta.session,
      owner: meta.owner ?? '',
      model: meta.model ?? '',
      tokens: cursor.seq + 1,
      cursor,
      terminal: meta.term ? (JSON.parse(meta.term) as TerminalEvent) : undefined,
    };
  }

  async *read(streamId: string, after: LogCursor, signal: AbortSignal): AsyncGenerator<LogSlice> {
    const prefix = await this.redis.get(keys.stream(streamId));
    if (!prefix || signal.aborted) return;
    const log = keys.log(prefix, streamId);
    const meta = keys.meta(prefix, streamId);
    // The session, for the terminal a failed read ends with (readers are told which session it was).
    const sessionId = (await this.redis.hget(meta, 'session').catch(() => null)) ?? sessionOf(prefix);
    let cursor = after.seq < -1 ? FROM_START : after;
    let lastId = idOf(cursor);
    let quietSince = Date.now();
    let failingSince: number | undefined;
    let count = 64;
    const stop = AbortSignal.any([signal, this.closing.signal]);
    while (!stop.aborted) {
      let raw: RawEntry[];
      try {
        raw = (await this.redis.xrange(log, `(${lastId}`, '+', 'COUNT', count)) as RawEntry[];
        if (raw.length === 0) {
          // Gone (expired, wiped), or ended at or before this reader's cursor: nothing more will come.
          const [session, term] = await this.redis.hmget(meta, 'session', 'term');
          if (session === null) {
            // It was there when this read began and has not ended for this reader: it vanished.
            // Its owner writes it back from its memory log (RESTORE, under the same ids): wait
            // for that, bounded; else the reader gets a terminal that says so, never silence.
            const waitMs = this.options.vanishedWaitMs ?? Math.max(5000, 3 * this.options.leaseMs);
            const started = Date.now();
            const back = await this.waitForKey(meta, waitMs, stop);
            if (back === undefined) return;
            const vanished = { streamId, sessionId, after: cursor.seq, waitedMs: Date.now() - started };
            this.options.onVanished?.({ ...vanished, outcome: back ? 'resumed' : 'lost' });
            if (!back) {
              const message = `the stream's log in Redis was lost (Redis restarted empty?) and the instance running it did not write it back within ${waitMs} ms; reload the answer from its conversation, or ask again`;
              yield { from: cursor, items: [], terminal: readError(streamId, sessionId, 'answer_log_lost', message) };
              return;
            }
            quietSince = Date.now();
            continue;
          }
          if (term !== null) {
            // The terminal entry is written with `term`: it may have come since the XRANGE.
            raw = (await this.redis.xrange(log, `(${lastId}`, '+', 'COUNT', count)) as RawEntry[];
            if (raw.length === 0) return;
          } else raw = await this.waitForMore(log, lastId, count, stop);
        }
        failingSince = undefined;
        count = nextReadCount(count, raw);
      } catch (err) {
        // Redis away: the reader waits for it to come back, a bounded time.
        failingSince ??= Date.now();
        if (Date.now() - failingSince > Math.max(30_000, 10 * this.options.leaseMs)) {
          this.options.onReadError?.(streamId, sessionId, `redis unavailable: ${err instanceof Error ? err.message : String(err)}`);
          yield { from: cursor, items: [], terminal: readError(streamId, sessionId, 'cluster_unavailable', 'Redis cannot be reached; reattach once it is back') };
          return;
        }
        await sleep(200, stop);
        continue;
      }
      if (raw.length === 0) {
        if (Date.now() - quietSince > this.options.leaseMs) {
          // Nothing for a lease: if the owner is gone, the reader records the stream lost (and reads that next).
          quietSince = Date.now();
          const lost = (await (this.redis as unknown as RedisScripts).jarvisCheckLost(prefix, streamId, String(this.options.retentionMs)).catch(() => [])) as string[];
          if (lost.length === 3) this.options.onLost?.({ streamId, instance: lost[0] as string, sessionId: lost[1] as string, owner: lost[2] as string });
        }
        continue;
      }
      quietSince = Date.now();
      const slice: LogSlice = { from: cursor, items: [] };
      for (const [id, fields] of raw) {
        if (compareIds(id, lastId) <= 0) continue; // a repeat
        if (!followsDirectly(cursor, id)) {
          const message = `gap in the stream's Redis log: after ${lastId} came ${id}`;
          this.options.onReadError?.(streamId, sessionId, message);
          slice.terminal = readError(streamId, sessionId, 'internal_error', message);
          break;
        }
        const decoded = decode(fields[1] ?? '', fields[3] ?? '');
        lastId = id;
        cursor = cursorOf(id);
        if (decoded.kind === 'status') {
          slice.status = decoded.event;
          slice.from = cursor;
        } else if (decoded.kind === 'item') slice.items.push(decoded.item);
        else {
          slice.terminal = decoded.event;
          break;
        }
      }
      if (slice.status || slice.items.length > 0 || slice.terminal) yield slice;
      if (slice.terminal) return;
    }
  }

  /** Whether `key` exists again within `ms` (polled; Redis errors count as not yet); undefined when `signal` aborts. */
  private async waitForKey(key: string, ms: number, signal: AbortSignal): Promise<boolean | undefined> {
    const deadline = Date.now() + ms;
    while (!signal.aborted) {
      if ((await this.redis.exists(key).catch(() => 0)) === 1) return true;
      if (Date.now() >= deadline) return false;
      await sleep(100, signal);
    }
    return undefined;
  }

  /** XREAD BLOCK on a connection of its own (a blocked connection can do nothing else); polls when none is free. */
  private async waitForMore(log: string, lastId: string, count: number, signal: AbortSignal): Promise<RawEntry[]> {
    const conn = await this.takeConnection();
    if (!conn) {
      await sleep(50, signal);
      return [];
    }
    try {
      const r = (await conn.xread('COUNT', count, 'BLOCK', BLOCK_MS, 'STREAMS', log, lastId)) as [string, RawEntry[]][] | null;
      return r?.[0]?.[1] ?? [];
    } finally {
      this.giveBack(conn);
    }
  }

  private async takeConnection(): Promise<Redis | undefined> {
    const idle = this.idle.pop();
    if (idle) return idle;
    if (this.blocking >= (this.options.maxBlockingReaders ?? 64)) return undefined;
    this.blocking++;
    const conn = this.redis.duplicate({ commandTimeout: BLOCK_MS + this.options.commandTimeoutMs, enableOfflineQueue: true, enableAutoPipelining: false });
    conn.on('error', () => {}); // reconnects by itself; the read reports what fails
    return conn;
  }

  private giveBack(conn: Redis): void {
    if (this.closed || conn.status === 'end') {
      this.blocking--;
      conn.disconnect();
    } else this.idle.push(conn);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    for (const conn of this.idle.splice(0)) conn.disconnect();
  }
}

interface RedisScripts {
  jarvisPush(prefix: string, ...args: string[]): Promise<unknown>;
  jarvisCheckLost(prefix: string, ...args: string[]): Promise<unknown>;
}

function readError(streamId: string, sessionId: string, code: 'internal_error' | 'cluster_unavailable' | 'answer_log_lost', message: string): TerminalEvent {
  return { type: 'error', code, message, stream_id: streamId, session_id: sessionId };
}

/** The session id from a session's key prefix `jarvis:{owner/session}:` (session ids contain no `/` or braces). */
function sessionOf(prefix: string): string {
  const m = /\{[^/]*\/([^}]*)\}/.exec(prefix);
  return m?.[1] ?? '';
}
