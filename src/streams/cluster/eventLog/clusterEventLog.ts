import type { StatusEvent, TerminalEvent } from '../../../shared/events.js';
import type { MemoryEventLog } from '../../eventLog/memoryEventLog.js';
import type { RedisEventLog } from './redisEventLog.js';
import { untilAborted } from '../../../shared/sleep.js';
import type { AppendResult, LogCursor, LogItem, LogSlice, ReadOptions, StreamEventLog, StreamLogInfo } from '../../eventLog/types.js';

/**
 * The event log of an instance in a cluster: the streams it runs are written to
 * its memory log (the per-token path stays in memory) and mirrored into Redis by
 * the coordinator (logMirror.ts); a stream is read from memory
 * where it runs, and from Redis on every other instance.
 */
export class ClusterEventLog implements StreamEventLog {
  /** Streams this instance is starting whose memory log is not created yet: resolved at `create` or when the stream ends. */
  private readonly expected = new Map<string, { created: Promise<void>; resolve: () => void }>();

  constructor(
    readonly local: MemoryEventLog,
    readonly remote: RedisEventLog,
  ) {}

  expect(streamId: string, until: Promise<unknown>): void {
    let resolve!: () => void;
    const created = new Promise<void>((r) => (resolve = r));
    this.expected.set(streamId, { created, resolve });
    const done = () => {
      resolve();
      this.expected.delete(streamId);
    };
    void until.then(done, done);
  }

  create(status: StatusEvent, owner: string, fence: bigint): void {
    this.local.create(status, owner, fence);
    this.expected.get(status.stream_id)?.resolve();
    this.expected.delete(status.stream_id);
  }

  append(streamId: string, item: LogItem, fence: bigint): AppendResult {
    return this.local.append(streamId, item, fence);
  }

  finish(streamId: string, event: TerminalEvent, fence: bigint): boolean {
    return this.local.finish(streamId, event, fence);
  }

  async info(streamId: string): Promise<StreamLogInfo | undefined> {
    return (await this.local.info(streamId)) ?? (await this.remote.info(streamId).catch(() => undefined));
  }

  async *read(streamId: string, after: LogCursor, signal: AbortSignal, options?: ReadOptions): AsyncGenerator<LogSlice> {
    // The owner's own readers (the answer's first response, its recorder) start before the
    // session is taken in Redis: they wait for the memory log, the owner's whole copy, which no
    // Redis restart can take away. Read from Redis, they were cut when Redis came back empty.
    const pending = this.expected.get(streamId);
    if (pending) await untilAborted(pending.created, signal);
    if (await this.local.info(streamId)) yield* this.local.read(streamId, after, signal, options);
    else yield* this.remote.read(streamId, after, signal);
  }

  async close(): Promise<void> {
    for (const pending of this.expected.values()) pending.resolve();
    await this.local.close();
    await this.remote.close();
  }
}
