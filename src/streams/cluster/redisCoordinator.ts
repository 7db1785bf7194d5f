import type { Redis } from 'ioredis';
import type { CancelReason } from '../../shared/events.js';
import type { SystemLog } from '../../log/systemLog.js';
import type { ChatStream } from '../chatStream.js';
import type { SessionCoordinator } from '../coordinator.js';
import type { RegisterOutcome, StreamRegistry } from '../registry.js';
import { noMetrics, type LostFoundBy, type StreamMetrics } from '../streamMetrics.js';
import { answersOwnerGone, otherInstancesRows, type ClusterStreamRow } from './clusterQueries.js';
import type { ClusterEventLog } from './eventLog/clusterEventLog.js';
import { LogRestorer } from './eventLog/logRestore.js';
import { HeldStreams } from './heldStreams.js';
import { Leases, type Held, type LostFields, type Scripts } from './leases.js';
import { channels, keys } from './redis/keys.js';
import { ACQUIRE, RELEASE, RENEW, RESTORE, STOP } from './redis/scripts.js';
import { RedisHealth } from './redisHealth.js';
import { ReleaseWaits } from './releaseWaits.js';
import { SessionStops } from './sessionStops.js';
import { SessionTakeover } from './sessionTakeover.js';

export interface RedisCoordinatorOptions {
  instance: string;
  leaseMs: number;
  cancelTimeoutMs: number;
  retentionMs: number;
  metrics?: StreamMetrics;
}

/**
 * The session rules across instances, on Redis (docs/clusters.md). This class wires the
 * cluster's jobs together, each in its own file:
 * - SessionTakeover: a new stream takes its session (fence, stop marker on the previous
 *   stream, its lease) and waits, bounded, for the previous one to let go;
 * - HeldStreams: a held stream's log mirrored into Redis, written back after a wipe, and
 *   its session let go once its terminal event is there;
 * - Leases: renewed every lease/3 (the renewal also reads the stop marker: a Stop whose
 *   signal was lost still lands within lease/3); a lapsed lease is found by the next
 *   acquire, a Stop or a reader, which records the stream `lost` under a new fence;
 * - SessionStops: Stop wherever the stream runs; ReleaseWaits: a successor's wait;
 * - RedisHealth: Redis down, streams running go on (their memory log is mirrored again once
 *   it is back); new streams get 503 (`unavailable`), every command is bounded.
 * It owns the Redis connection it is given: `close` ends it.
 */
export class RedisCoordinator implements SessionCoordinator {
  private readonly held = new Map<string, Held>();
  private readonly sub: Redis;
  private readonly timer: NodeJS.Timeout;
  private readonly health: RedisHealth;
  private readonly leases: Leases;
  private readonly restorer: LogRestorer;
  private readonly heldStreams: HeldStreams;
  private readonly takeover: SessionTakeover;
  private readonly stops: SessionStops;
  private readonly releaseWaits: ReleaseWaits;
  private readonly closing = new AbortController();

  constructor(
    private readonly local: StreamRegistry,
    private readonly redis: Redis,
    streamLog: ClusterEventLog,
    log: SystemLog,
    private readonly options: RedisCoordinatorOptions,
  ) {
    const metrics = options.metrics ?? noMetrics;
    redis.defineCommand('jarvisAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    redis.defineCommand('jarvisRenew', { numberOfKeys: 1, lua: RENEW });
    redis.defineCommand('jarvisRestore', { numberOfKeys: 1, lua: RESTORE });
    redis.defineCommand('jarvisRelease', { numberOfKeys: 1, lua: RELEASE });
    redis.defineCommand('jarvisStop', { numberOfKeys: 1, lua: STOP });
    const scripts = redis as unknown as Scripts;
    const health = (this.health = new RedisHealth(redis, log, () => local.size));
    const trouble = (error: string) => health.failed(error);
    this.leases = new Leases(redis, scripts, this.held, local, log, metrics, options, trouble);
    this.restorer = new LogRestorer(redis, streamLog, log, options.retentionMs);
    this.releaseWaits = new ReleaseWaits(redis, options.cancelTimeoutMs);
    this.heldStreams = new HeldStreams(this.held, scripts, streamLog, this.leases, this.restorer, log, options, trouble);
    this.takeover = new SessionTakeover(redis, scripts, local, this.heldStreams, this.leases, this.releaseWaits, log, metrics, options, health);
    this.stops = new SessionStops(scripts, local, this.leases, health, log, options);
    redis.on('error', (err: Error) => health.failed(err.message));
    redis.on('ready', () => {
      health.ready();
      // Back after an outage (or a restart that lost everything): renew, and restore, at once.
      void this.leases.renewAll();
      void this.afterReconnect();
    });
    if (redis.status === 'ready') void this.afterReconnect(); // the first run_id: a later one that differs is a restart
    // Subscriptions need a connection of their own; ioredis subscribes again after a reconnect.
    // The SUBSCRIBE waits in the queue across failed connection attempts (maxRetriesPerRequest:
    // null): with the main client's 0, a first attempt that failed (a loaded start-up) dropped it,
    // and the instance never heard a signal.
    this.sub = redis.duplicate({ enableOfflineQueue: true, commandTimeout: undefined, maxRetriesPerRequest: null });
    this.sub.on('error', () => {});
    void this.sub.subscribe(channels.stop, channels.released).catch(() => {});
    this.sub.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    this.timer = setInterval(() => void this.leases.renewAll(), Math.max(100, Math.floor(options.leaseMs / 3)));
    this.timer.unref();
  }

  get size(): number {
    return this.local.size;
  }

  hasSession(owner: string, sessionId: string): boolean {
    return this.local.hasSession(owner, sessionId);
  }

  get(streamId: string): ChatStream | undefined {
    return this.local.get(streamId);
  }

  list(owner?: string): ChatStream[] {
    return this.local.list(owner);
  }

  unavailable(): string | undefined {
    return this.health.unavailable();
  }

  /** See SessionTakeover.claim: the session is taken in Redis before the stream's status goes out. */
  async claim(stream: ChatStream): Promise<void> {
    await this.takeover.claim(stream);
  }

  acquire(stream: ChatStream): Promise<RegisterOutcome> {
    return this.takeover.acquire(stream);
  }

  superseded(stream: ChatStream): Promise<string[]> {
    return this.takeover.superseded(stream);
  }

  release(stream: ChatStream): void {
    this.takeover.forget(stream);
    this.local.pop(stream);
    this.heldStreams.release(stream);
  }

  stop(owner: string, sessionId: string, reason: CancelReason = 'stopped'): Promise<boolean> {
    return this.stops.stop(owner, sessionId, reason);
  }

  cancelAll(reason: CancelReason): ChatStream[] {
    return this.local.cancelAll(reason);
  }

  /** A reader on this instance found a stream whose owner is gone and recorded it lost (see Leases.recordLost). */
  recordLost(foundBy: LostFoundBy, fields: LostFields): void {
    this.leases.recordLost(foundBy, fields);
  }

  /** Before the stream writes a batch of tokens: see Leases.check. */
  checkLease(stream: ChatStream): Promise<void> | undefined {
    return this.leases.check(stream);
  }

  /**
   * For the conversation store's sweep: which of these answers (of other instances) nobody
   * can write any more: their instance has not been seen for 3 leases and their stream's
   * lease has lapsed. When Redis cannot tell, none is.
   */
  async ownerGone(answers: Array<{ streamId: string | null; instance: string | null }>): Promise<boolean[]> {
    const none = answers.map(() => false);
    if (this.redis.status !== 'ready' || answers.length === 0) return none;
    try {
      return await answersOwnerGone(this.redis, this.options.instance, this.options.leaseMs, answers);
    } catch (err) {
      this.health.failed(err);
      return none;
    }
  }

  /** Every instance's live streams, as they last published them (at most lease/3 old; this instance's are current). */
  async clusterStreams(): Promise<ClusterStreamRow[]> {
    return [...this.leases.rows(), ...(await otherInstancesRows(this.redis, this.options.instance, this.options.leaseMs))];
  }

  /** Shutdown: the mirrors get a moment to finish, this instance leaves the heartbeat set, and the Redis connections end. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.closing.abort();
    await this.heldStreams.flushed(1000);
    await this.redis.zrem(keys.instances, this.options.instance).catch(() => {});
    this.sub.disconnect();
    this.redis.disconnect();
  }

  private onMessage(channel: string, message: string): void {
    if (channel === channels.stop) this.stops.signalled(message);
    else if (channel === channels.released) this.releaseWaits.released(message);
  }

  /** A Redis restarted empty lost every record and log: running streams' mirrors write theirs back now, the restorer the ended ones'. */
  private afterReconnect(): Promise<void> {
    return this.restorer.afterReconnect(() => this.heldStreams.running(), (error) => this.health.failed(error), this.closing.signal);
  }
}
