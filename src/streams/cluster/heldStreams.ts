import type { CancelReason } from '../../shared/events.js';
import { sleep } from '../../shared/sleep.js';
import type { SystemLog } from '../../log/systemLog.js';
import type { ChatStream } from '../chatStream.js';
import type { ClusterEventLog } from './eventLog/clusterEventLog.js';
import { mirrorLog } from './eventLog/logMirror.js';
import type { LogRestorer, StreamRecord } from './eventLog/logRestore.js';
import { recheck, type Held, type Leases, type Scripts } from './leases.js';

/** How long a released stream's mirror may go on retrying to get its last entries into Redis. */
const MIRROR_AFTER_END_MS = 30_000;

/**
 * The streams this instance holds in Redis, from the session taken to the session let go
 * (docs/clusters.md): each one's memory log is mirrored into its Redis log, written back
 * after a wipe, and its session is released only once its terminal event is in Redis and
 * every stream it superseded is gone. The map is shared with Leases, which renews them.
 */
export class HeldStreams {
  constructor(
    private readonly held: Map<string, Held>,
    private readonly scripts: Scripts,
    private readonly streamLog: ClusterEventLog,
    private readonly leases: Leases,
    private readonly restorer: LogRestorer,
    private readonly log: SystemLog,
    private readonly options: { instance: string; leaseMs: number; cancelTimeoutMs: number; retentionMs: number },
    private readonly trouble: (error: string) => void,
  ) {}

  /** ARGV[1..9] of the ACQUIRE and RESTORE scripts (redis/scripts.ts): the stream as Redis records it. */
  streamArgs(stream: ChatStream): string[] {
    const { instance, leaseMs, retentionMs } = this.options;
    return [
      stream.id,
      instance,
      stream.owner,
      stream.sessionId,
      stream.model,
      JSON.stringify(stream.statusEvent()),
      String(leaseMs),
      String(this.streamLog.remote.liveTtlMs),
      String(retentionMs),
    ];
  }

  /** The stream took its session in Redis under `fence`: its log is mirrored there from now on. */
  hold(stream: ChatStream, prefix: string, fence: bigint, predecessorsGone: Promise<unknown>, leaseUntil: number): void {
    const stopMirror = new AbortController();
    const record: StreamRecord = { streamId: stream.id, sessionId: stream.sessionId, prefix, fence, args: this.streamArgs(stream) };
    const held: Held = { stream, prefix, fence, record, stopMirror, recheck: new AbortController(), mirror: Promise.resolve(), predecessorsGone, leaseUntil };
    let taken = false;
    // After a wipe: a stream that still holds its session takes it again (unless a newer stream
    // has meanwhile); one that has let it go only gets its record back.
    const restore = async (): Promise<'restored' | 'taken'> => {
      if (!this.held.has(stream.id)) return this.restorer.restoreEnded(record);
      const r = (await this.scripts.jarvisRestore(prefix, ...record.args, fence.toString())) as 'restored' | 'taken';
      taken = r === 'taken';
      return r;
    };
    held.mirror = mirrorLog(
      this.streamLog.local,
      this.streamLog.remote,
      { prefix, streamId: stream.id, fence, restore, recheck: () => held.recheck.signal },
      {
        stopped: (reason) => stream.cancel(reason as CancelReason),
        fenced: () => this.leases.lost(stream, fence, taken ? 'restore' : 'append'),
        failing: (error) => this.trouble(error),
        restored: () => this.log.info('redis_log_restored', { trace: stream.id, session: stream.sessionId, state: stream.outcome ? 'ended' : 'live', fence: fence.toString() }),
      },
      stopMirror.signal,
    )
      .catch((err: unknown) => this.log.error('stream_mirror_failed', { trace: stream.id, error: err instanceof Error ? err.message : String(err) }))
      .finally(() => (held.mirrored = true));
    this.held.set(stream.id, held);
  }

  /** The stream ended: its session is let go once its terminal event is in Redis and its predecessors are gone. */
  release(stream: ChatStream): void {
    const held = this.held.get(stream.id);
    if (!held || held.releasing) return;
    held.releasing = true;
    void (async () => {
      // The terminal event goes into Redis before the lease is let go: a successor's readers find it there.
      const timer = setTimeout(() => held.stopMirror.abort(), MIRROR_AFTER_END_MS);
      await Promise.race([held.mirror, sleep(this.options.cancelTimeoutMs, undefined, { unref: true })]);
      // Still renewed meanwhile (it stays in `held`): the successor waits for its predecessors through it.
      await held.predecessorsGone;
      await this.scripts.jarvisRelease(held.prefix, stream.id, held.fence.toString()).catch((err: unknown) => this.trouble(String(err)));
      this.held.delete(stream.id);
      // Its log stays in memory for the retention: written back from there if Redis loses it meanwhile.
      this.restorer.keep(held.record);
      await held.mirror;
      clearTimeout(timer);
    })();
  }

  /** What a Redis that came back empty needs from the running streams: their records, and a nudge to their mirrors. */
  running(): Array<{ record: StreamRecord; recheck: () => boolean }> {
    return [...this.held.values()].map((h) => ({ record: h.record, recheck: () => recheck(h) }));
  }

  /** Until every mirror has written what it has, at most `ms` (shutdown). */
  async flushed(ms: number): Promise<void> {
    await Promise.race([Promise.all([...this.held.values()].map((h) => h.mirror)), sleep(ms, undefined, { unref: true })]);
  }
}
