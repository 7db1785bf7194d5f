import type { Redis } from 'ioredis';
import type { SystemLog } from '../../../log/systemLog.js';
import type { ClusterEventLog } from './clusterEventLog.js';
import { keys } from '../redis/keys.js';
import { mirrorLog } from './logMirror.js';
import { RESTORE_ENDED } from '../redis/scripts.js';

/** What it takes to write a stream's Redis record back: its session's key prefix, its fence, the RESTORE scripts' ARGV[1..9]. */
export interface StreamRecord {
  streamId: string;
  sessionId: string;
  prefix: string;
  fence: bigint;
  args: string[];
}

export interface RedisRestart {
  runId: string;
  prevRunId: string;
  /** Came back without the cluster's data (no persistence): every log must be written back. */
  empty: boolean;
}

/** Ended streams written back at once after a wipe. */
const PARALLEL = 16;
/** How long one ended stream's write-back may go on retrying. */
const REWRITE_MS = 30_000;

/**
 * A Redis restarted without persistence comes back empty, while every owner still
 * has its streams' logs in memory (docs/security.md, "Redis restarted empty"). The
 * running streams' mirrors write theirs back (logMirror.ts); this keeps what it
 * takes to write back the streams that have ended but whose logs are still kept
 * (JARVIS_STREAM_RETENTION_MS), and tells a restart from a reconnection: Redis's
 * `run_id` changes with every start, and `jarvis:epoch` (the run_id of the server
 * that first held the data) is gone with the data.
 */
export class LogRestorer {
  private readonly ended = new Map<string, StreamRecord>();
  private runId: string | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly streamLog: ClusterEventLog,
    private readonly log: SystemLog,
    private readonly retentionMs: number,
  ) {
    redis.defineCommand('jarvisRestoreEnded', { numberOfKeys: 1, lua: RESTORE_ENDED });
  }

  /** A stream of this instance let its session go: its memory log is kept for the retention, and so is its record. */
  keep(record: StreamRecord): void {
    this.ended.set(record.streamId, record);
    setTimeout(() => this.ended.delete(record.streamId), this.retentionMs).unref();
  }

  /** Writes an ended stream's record back (RESTORE_ENDED: no session taken). */
  restoreEnded(r: StreamRecord): Promise<'restored'> {
    return (this.redis as unknown as { jarvisRestoreEnded(prefix: string, ...args: string[]): Promise<'restored'> }).jarvisRestoreEnded(r.prefix, ...r.args, r.fence.toString());
  }

  /** On each (re)connection: a restart (a new run_id) and whether it lost the data; undefined for a reconnection to the same server. */
  private async check(): Promise<RedisRestart | undefined> {
    const info = await this.redis.info('server');
    const runId = /run_id:(\w+)/.exec(info)?.[1];
    if (!runId) return undefined;
    const set = await this.redis.set(keys.epoch, runId, 'NX');
    const epoch = set === 'OK' ? runId : await this.redis.get(keys.epoch);
    const prevRunId = this.runId;
    this.runId = runId;
    if (prevRunId === undefined || prevRunId === runId) return undefined;
    return { runId, prevRunId, empty: epoch === runId };
  }

  /**
   * On every (re)connection: after a restart that lost the data, `live()`'s rechecks have the
   * running streams' mirrors write their logs back, and the ended streams' logs are written back here
   * (with those of streams still held whose mirror is done: false from their recheck).
   */
  async afterReconnect(live: () => Array<{ record: StreamRecord; recheck(): boolean }>, trouble: (error: string) => void, signal: AbortSignal): Promise<void> {
    let restart;
    try {
      restart = await this.check();
    } catch (err) {
      return trouble(err instanceof Error ? err.message : String(err));
    }
    if (!restart) return;
    const rechecks = live();
    this.log.warn('redis_restarted', { run_id: restart.runId, prev_run_id: restart.prevRunId, empty: restart.empty, streams_live: rechecks.length, streams_ended: this.ended.size });
    if (!restart.empty) return;
    const done = rechecks.filter((r) => !r.recheck()).map((r) => r.record);
    const restored = await this.rewriteEnded(done, signal);
    this.log.info('redis_logs_restored', { run_id: restart.runId, streams_live: rechecks.length, streams_ended: restored });
  }

  /** Writes back the logs of the ended streams still held in memory, a few at a time; returns how many were written back. */
  private async rewriteEnded(more: StreamRecord[], signal: AbortSignal): Promise<number> {
    const queue = [...this.ended.values(), ...more];
    let restored = 0;
    const worker = async () => {
      for (let r = queue.shift(); r && !signal.aborted; r = queue.shift()) {
        const record = r;
        const held = await this.streamLog.local.info(record.streamId);
        if (!held?.terminal) {
          if (!held) this.ended.delete(record.streamId); // its memory log is gone: nothing to write back
          continue;
        }
        await mirrorLog(
          this.streamLog.local,
          this.streamLog.remote,
          { prefix: record.prefix, streamId: record.streamId, fence: record.fence, restore: () => this.restoreEnded(record), checkFirst: true },
          {
            stopped: () => {},
            fenced: () => {},
            failing: () => {},
            restored: () => {
              restored++;
              this.log.info('redis_log_restored', { trace: record.streamId, session: record.sessionId, state: 'ended', fence: record.fence.toString() });
            },
          },
          AbortSignal.any([signal, AbortSignal.timeout(REWRITE_MS)]),
        );
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    return restored;
  }
}
