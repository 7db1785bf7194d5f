import type { StatusEvent, TerminalEvent } from '../../shared/events.js';
import type { MemoryEventLog } from './memoryEventLog.js';
import type { RedisEventLog } from './redisEventLog.js';
import type { AppendResult, LogCursor, LogItem, LogSlice, StreamEventLog, StreamLogInfo } from './types.js';

/**
 * The event log of an instance in a cluster: the streams it runs are written to
 * its memory log (the per-token path stays in memory) and mirrored into Redis by
 * the coordinator (src/streams/cluster/logMirror.ts); a stream is read from memory
 * where it runs, and from Redis on every other instance.
 */
export class ClusterEventLog implements StreamEventLog {
  constructor(
    readonly local: MemoryEventLog,
    readonly remote: RedisEventLog,
  ) {}

  create(status: StatusEvent, owner: string, fence: bigint): void {
    this.local.create(status, owner, fence);
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

  async *read(streamId: string, after: LogCursor, signal: AbortSignal): AsyncGenerator<LogSlice> {
    if (await this.local.info(streamId)) yield* this.local.read(streamId, after, signal);
    else yield* this.remote.read(streamId, after, signal);
  }

  async close(): Promise<void> {
    await this.local.close();
    await this.remote.close();
  }
}
