import type { Redis } from 'ioredis';
import type { CancelReason } from '../../shared/events.js';
import type { SystemLog } from '../../log/systemLog.js';
import type { ChatStream } from '../chatStream.js';
import type { StreamRegistry } from '../registry.js';
import type { LostFoundBy, StreamMetrics } from '../streamMetrics.js';
import { streamRows, type ClusterStreamRow } from './clusterQueries.js';
import { keys } from './redis/keys.js';
import type { StreamRecord } from './eventLog/logRestore.js';

export interface Held {
  stream: ChatStream;
  prefix: string;
  fence: bigint;
  /** What it takes to write its Redis record back after a wipe, while it runs and after. */
  record: StreamRecord;
  mirror: Promise<void>;
  stopMirror: AbortController;
  /** Aborted (and made anew) to have the mirror check its Redis log now: Redis came back empty. */
  recheck: AbortController;
  /** Its mirror has written the terminal event (or given up): a recheck reaches no one. */
  mirrored?: boolean;
  /** Resolves once every stream this one superseded is gone, or after the cancel timeout. */
  predecessorsGone: Promise<unknown>;
  /** Ended: letting the session go once its predecessors are gone. */
  releasing?: boolean;
  /** Until when (performance.now()) the lease surely holds: its last renewal's sending + the lease. */
  leaseUntil: number;
  /** A renewal asked for by checkLease, under way. */
  checking?: Promise<void>;
}

export interface Scripts {
  jarvisAcquire(prefix: string, ...args: string[]): Promise<string[]>;
  jarvisRenew(prefix: string, ...args: string[]): Promise<string[]>;
  jarvisRestore(prefix: string, ...args: string[]): Promise<string>;
  jarvisRelease(prefix: string, ...args: string[]): Promise<number>;
  jarvisStop(prefix: string, ...args: string[]): Promise<string[]>;
}

/** What the `stream_lost` line tells of a stream found lost. */
export interface LostFields {
  trace: string | undefined;
  session: string;
  key?: string;
  prev_instance: string | undefined;
  new_trace?: string;
  fence?: string;
}

/** Instances not seen for this long leave the heartbeat set. */
const INSTANCE_FORGET_MS = 3_600_000;

/**
 * The leases of this instance's streams (docs/clusters.md): renewed
 * every third of a lease in one pipeline with the instance's heartbeat, checked before a
 * stream writes when it may have lapsed, and a stream whose lease another instance took
 * is stopped. The streams themselves are the coordinator's (`held`, shared).
 */
export class Leases {
  private readonly fenced = new WeakSet<ChatStream>();
  private published = false;

  constructor(
    private readonly redis: Redis,
    private readonly scripts: Scripts,
    private readonly held: Map<string, Held>,
    private readonly local: StreamRegistry,
    private readonly log: SystemLog,
    private readonly metrics: StreamMetrics,
    private readonly options: { instance: string; leaseMs: number },
    private readonly trouble: (error: string) => void,
  ) {}

  /**
   * This instance found a stream whose owner stopped renewing its lease and wrote its
   * `lost` terminal: the `stream_lost` line (in this instance's log, the one that
   * recorded it) and the metric. The dead instance can log nothing.
   */
  recordLost(foundBy: LostFoundBy, fields: LostFields): void {
    this.log.warn('stream_lost', { ...fields, found_by: foundBy, lease_ms: this.options.leaseMs });
    this.metrics.streamLost(foundBy);
  }

  /** Another instance recorded this stream lost (its lease lapsed): it stops generating now, with one `lease_lost` line. */
  lost(stream: ChatStream, fence: bigint, by: string): void {
    if (stream.outcome && stream.state === 'ended') return;
    // The renewal and the mirror's next write may both find it fenced: one line.
    if (this.fenced.has(stream)) return;
    this.fenced.add(stream);
    this.log.warn('lease_lost', { trace: stream.id, session: stream.sessionId, key: stream.owner || undefined, fence: fence.toString(), found_by: by });
    // Another instance has recorded this stream lost: stop generating now.
    stream.loseSession('this instance lost its hold on the stream (its lease lapsed and the cluster recorded it lost)');
  }

  /** Renews every held stream's lease, publishes this instance's streams and heartbeat: one pipeline, every third of a lease. */
  async renewAll(): Promise<void> {
    if (this.redis.status !== 'ready') return;
    const held = [...this.held.values()];
    const { leaseMs, instance } = this.options;
    try {
      const pipeline = this.redis.pipeline();
      for (const h of held) (pipeline as unknown as Scripts).jarvisRenew(h.prefix, h.stream.id, h.fence.toString(), String(leaseMs));
      const rows = this.rows();
      if (rows.length > 0 || this.published) {
        pipeline.set(keys.debug(instance), JSON.stringify(rows), 'PX', 3 * leaseMs);
        this.published = rows.length > 0;
      }
      // The heartbeat other instances read: an instance not seen for 3 leases is gone (ownerGone).
      const now = Date.now();
      pipeline.zadd(keys.instances, now, instance);
      pipeline.zremrangebyscore(keys.instances, '-inf', now - INSTANCE_FORGET_MS);
      const sentAt = performance.now();
      const results = (await pipeline.exec()) ?? [];
      held.forEach((h, i) => {
        const [err, r] = results[i] ?? [null, null];
        if (!err && Array.isArray(r)) this.renewed(h, r as string[], sentAt, 'renew');
      });
    } catch (err) {
      this.trouble(err instanceof Error ? err.message : String(err));
    }
  }

  private renewed(h: Held, r: string[], sentAt: number, by: string): void {
    if (r[0] === 'fenced') return this.lost(h.stream, h.fence, by);
    // 'gone': Redis lost everything; the mirror writes the record and the log back now (RESTORE takes the lease).
    if (r[0] === 'gone') recheck(h);
    h.leaseUntil = Math.max(h.leaseUntil, sentAt + this.options.leaseMs);
    if (r[0] === 'stop' && h.stream.cancel(r[1] as CancelReason)) this.log.info('stream_stop_marker_seen', { trace: h.stream.id, reason: r[1] });
  }

  /**
   * Before the stream writes a batch of tokens: when its lease may have lapsed since the last
   * renewal (the process was paused, or its event loop stalled, past it), nothing more is written
   * until a renewal says it still holds the session; if it does not, the stream ends `lost` and
   * closes its upstream, and what it read meanwhile reaches no reader. Redis away: it goes on.
   */
  check(stream: ChatStream): Promise<void> | undefined {
    const h = this.held.get(stream.id);
    if (!h || h.releasing || performance.now() < h.leaseUntil || this.redis.status !== 'ready') return undefined;
    h.checking ??= (async () => {
      const sentAt = performance.now();
      try {
        this.renewed(h, await this.scripts.jarvisRenew(h.prefix, stream.id, h.fence.toString(), String(this.options.leaseMs)), sentAt, 'lease_check');
      } catch (err) {
        this.trouble(err instanceof Error ? err.message : String(err));
      } finally {
        h.checking = undefined;
      }
    })();
    return h.checking;
  }

  /** This instance's streams as /debug/streams and the other instances read them. */
  rows(): ClusterStreamRow[] {
    return streamRows(this.local.list(), this.options.instance);
  }
}

/** Has the stream's mirror check its Redis log now; false when it is done (ended, still letting go). */
export function recheck(h: Held): boolean {
  const signal = h.recheck;
  h.recheck = new AbortController();
  signal.abort();
  return h.mirrored !== true;
}
