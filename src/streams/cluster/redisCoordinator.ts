import type { Redis } from 'ioredis';
import type { CancelReason } from '../../shared/events.js';
import type { SystemLog } from '../../log/systemLog.js';
import type { ChatStream } from '../chatStream.js';
import { ClusterUnavailableError, type SessionCoordinator } from '../coordinator.js';
import type { ClusterEventLog } from './eventLog/clusterEventLog.js';
import type { RegisterOutcome, StreamRegistry } from '../registry.js';
import { noMetrics, type LostFoundBy, type StreamMetrics } from '../streamMetrics.js';
import { answersOwnerGone, otherInstancesRows, type ClusterStreamRow } from './clusterQueries.js';
import { channels, keys, sessionPrefix } from './redis/keys.js';
import { mirrorLog } from './eventLog/logMirror.js';
import { Leases, recheck, type Held, type Scripts } from './leases.js';
import { LogRestorer, type StreamRecord } from './eventLog/logRestore.js';
import { ReleaseWaits } from './releaseWaits.js';
import { sleep, untilAborted } from '../../shared/sleep.js';
import { ACQUIRE, RELEASE, RENEW, RESTORE, STOP } from './redis/scripts.js';

export interface RedisCoordinatorOptions {
  instance: string;
  leaseMs: number;
  cancelTimeoutMs: number;
  retentionMs: number;
  metrics?: StreamMetrics;
}


/** What `claim` got: the ACQUIRE script's answer, and the local registry's side of it. */
interface Claim {
  r: string[];
  /** When the ACQUIRE script was sent (performance.now()): the lease runs from no earlier. */
  sentAt: number;
  /** This instance's streams of the session that were live before this one. */
  olderHere: ChatStream[];
  localWait: Promise<RegisterOutcome>;
}



/** How long a released stream's mirror may go on retrying to get its last entries into Redis. */
const MIRROR_AFTER_END_MS = 30_000;

/**
 * The session rules across instances, on Redis (resume-and-cluster.md §3):
 * - `acquire` keeps this instance's own rules first (StreamRegistry: local
 *   predecessors, the bounded wait, the prev_stream_* lines), then takes the
 *   session in Redis in one Lua step: the next fence (a counter that only grows),
 *   a stop marker on the previous stream, a lease on the new one. When the previous
 *   stream runs on another instance, it signals it (pub/sub) and waits for its
 *   release, bounded by JARVIS_CANCEL_TIMEOUT_MS, and logs the same lines with both
 *   instances.
 * - The owner renews its leases every lease/3, and that renewal also reads the stop
 *   marker: a Stop whose signal was lost still lands within lease/3.
 * - A lease that lapsed (the instance died or hung) is found by the next acquire, a
 *   Stop or a reader, which records the stream `lost` under a new fence: the old
 *   owner's late writes are refused, and it closes its upstream.
 * - Redis down: streams running go on (their memory log is mirrored again once it
 *   is back); new streams get 503 (`unavailable`), every command is bounded.
 */
export class RedisCoordinator implements SessionCoordinator {
  private readonly held = new Map<string, Held>();
  private readonly claims = new Map<string, Promise<Claim>>();
  private readonly releaseWaits: ReleaseWaits;
  private readonly sub: Redis;
  private readonly timer: NodeJS.Timeout;
  private readonly scripts: Scripts;
  private readonly metrics: StreamMetrics;
  private redisTrouble: string | undefined;
  private readonly leases: Leases;
  private readonly restorer: LogRestorer;
  private readonly closing = new AbortController();

  constructor(
    private readonly local: StreamRegistry,
    readonly redis: Redis,
    private readonly streamLog: ClusterEventLog,
    private readonly log: SystemLog,
    private readonly options: RedisCoordinatorOptions,
  ) {
    this.metrics = options.metrics ?? noMetrics;
    redis.defineCommand('jarvisAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    redis.defineCommand('jarvisRenew', { numberOfKeys: 1, lua: RENEW });
    redis.defineCommand('jarvisRestore', { numberOfKeys: 1, lua: RESTORE });
    redis.defineCommand('jarvisRelease', { numberOfKeys: 1, lua: RELEASE });
    redis.defineCommand('jarvisStop', { numberOfKeys: 1, lua: STOP });
    this.scripts = redis as unknown as Scripts;
    this.leases = new Leases(redis, this.scripts, this.held, local, log, options, (error) => this.trouble(error));
    this.restorer = new LogRestorer(redis, streamLog, log, options.retentionMs);
    this.releaseWaits = new ReleaseWaits(redis, options.cancelTimeoutMs);
    redis.on('error', (err: Error) => this.trouble(err.message));
    redis.on('ready', () => {
      if (this.redisTrouble !== undefined) log.info('redis_ready', { after: this.redisTrouble });
      this.redisTrouble = undefined;
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
    if (this.redis.status === 'ready') return undefined;
    return `Redis (REDIS_URL) cannot be reached${this.redisTrouble ? ` (${this.redisTrouble})` : ''}: no new stream can start without the session rules; streams already running go on. Retry shortly`;
  }

  get redisReady(): boolean {
    return this.redis.status === 'ready';
  }

  /**
   * Takes the session for `stream` at once, here and in Redis, before its status event goes out
   * (runStream): a client that saw the status and sends another prompt, on any instance, comes
   * after this one in Redis too, so the newest prompt wins. `acquire` then does the bounded wait.
   */
  async claim(stream: ChatStream): Promise<void> {
    await this.claimOf(stream);
  }

  private claimOf(stream: ChatStream): Promise<Claim> {
    let claim = this.claims.get(stream.id);
    if (!claim) {
      claim = this.take(stream);
      claim.catch(() => {});
      this.claims.set(stream.id, claim);
    }
    return claim;
  }

  private async take(stream: ChatStream): Promise<Claim> {
    const olderHere = this.local.sessionStreams(stream.owner, stream.sessionId);
    const localWait = this.local.register(stream);
    const prefix = sessionPrefix(stream.owner, stream.sessionId);
    const sentAt = performance.now();
    try {
      const r = await this.scripts.jarvisAcquire(prefix, ...this.streamArgs(stream));
      return { r, sentAt, olderHere, localWait };
    } catch (err) {
      this.trouble(err instanceof Error ? err.message : String(err));
      await localWait;
      throw new ClusterUnavailableError(this.unavailable() ?? `Redis failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async acquire(stream: ChatStream): Promise<RegisterOutcome> {
    const { r, sentAt, olderHere, localWait } = await this.claimOf(stream);
    this.claims.delete(stream.id);
    const prefix = sessionPrefix(stream.owner, stream.sessionId);
    const { leaseMs, instance } = this.options;
    const [fenceText, prevId, prevInstance, prevState] = r;
    const fence = BigInt(fenceText as string);
    const remotePrev = prevState === 'live' && prevInstance !== instance;
    // The previous stream runs elsewhere: signal it (its owner also polls the marker).
    if (remotePrev) this.redis.publish(channels.stop, `${prevId} superseded`).catch(() => {});
    // Its release in Redis, here or elsewhere, comes only once everything it superseded is gone
    // (see `release`): waiting for it waits for the whole chain, bounded.
    const released = prevState === 'live' ? this.releaseWaits.wait(prefix, prevId as string) : Promise.resolve('clean' as const);
    const predecessorsGone = Promise.race([Promise.all([released, ...olderHere.map((s) => s.finished)]), sleep(this.options.cancelTimeoutMs, undefined, { unref: true })]);
    this.hold(stream, prefix, fence, predecessorsGone, sentAt + leaseMs);
    const started = performance.now();
    const outcome = await localWait;
    const fields = { trace: prevId, new_trace: stream.id, session: stream.sessionId, key: stream.owner || undefined, prev_instance: prevInstance, fence: fence.toString() };
    if (prevState === 'lost') {
      this.recordLost('acquire', { ...fields, prev_instance: prevInstance });
    } else if (remotePrev) {
      const result = await untilAborted(released, stream.signal);
      const waited = Math.round(performance.now() - started);
      this.metrics.supersedeWaited(waited, result === 'clean' ? 'clean' : result === 'timeout' ? 'timeout' : 'abandoned');
      if (result === 'clean') this.log.info('prev_stream_finished_cleanly', { ...fields, waited_ms: waited });
      else if (result === 'timeout') this.log.warn('prev_stream_timeout_on_cancel', { ...fields, waited_ms: waited, timeout_ms: this.options.cancelTimeoutMs });
      else this.log.info('prev_stream_wait_abandoned', { ...fields, waited_ms: waited });
      if (outcome === 'started') return result === 'clean' ? 'waited_clean' : result === 'timeout' ? 'waited_timeout' : 'aborted_while_waiting';
    } else if (prevState === 'live') {
      // The previous stream ran here (the local registry waited for it and logged it); it may
      // itself have been superseded while waiting for one elsewhere: wait for its release too.
      await untilAborted(released, stream.signal);
    }
    return outcome;
  }

  release(stream: ChatStream): void {
    this.claims.delete(stream.id);
    this.local.pop(stream);
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

  async stop(owner: string, sessionId: string, reason: CancelReason = 'stopped'): Promise<boolean> {
    const stoppedHere = this.local.stop(owner, sessionId, reason);
    try {
      const r = await this.scripts.jarvisStop(sessionPrefix(owner, sessionId), reason, String(this.options.retentionMs));
      if (r[0] === 'lost') {
        // Its owner had stopped renewing its lease: nothing was running to stop, and the stream is now recorded lost.
        this.recordLost('stop', { trace: r[1], session: sessionId, key: owner || undefined, prev_instance: r[2] });
        return stoppedHere;
      }
      if (r.length > 0 && r[1] !== this.options.instance) this.log.info('session_stop_sent', { trace: r[0], session: sessionId, key: owner || undefined, to_instance: r[1], reason });
      return stoppedHere || r.length > 0;
    } catch (err) {
      if (stoppedHere) return true;
      this.trouble(err instanceof Error ? err.message : String(err));
      throw new ClusterUnavailableError(this.unavailable() ?? 'Redis failed');
    }
  }

  cancelAll(reason: CancelReason): ChatStream[] {
    return this.local.cancelAll(reason);
  }

  /**
   * This instance found a stream whose owner stopped renewing its lease and wrote its
   * `lost` terminal: the `stream_lost` line (in this instance's log, the one that
   * recorded it) and the metric. The dead instance can log nothing.
   */
  recordLost(foundBy: LostFoundBy, fields: { trace: string | undefined; session: string; key?: string; prev_instance: string | undefined; new_trace?: string; fence?: string }): void {
    this.log.warn('stream_lost', { ...fields, found_by: foundBy, lease_ms: this.options.leaseMs });
    this.metrics.streamLost(foundBy);
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
      this.trouble(err instanceof Error ? err.message : String(err));
      return none;
    }
  }

  /** Every instance's live streams, as they last published them (at most lease/3 old; this instance's are current). */
  async clusterStreams(): Promise<ClusterStreamRow[]> {
    return [...this.leases.rows(), ...(await otherInstancesRows(this.redis, this.options.instance, this.options.leaseMs))];
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.closing.abort();
    await Promise.race([Promise.all([...this.held.values()].map((h) => h.mirror)), sleep(1000, undefined, { unref: true })]);
    await this.redis.zrem(keys.instances, this.options.instance).catch(() => {});
    this.sub.disconnect();
  }

  /** ARGV[1..9] of the ACQUIRE and RESTORE scripts (scripts.ts): the stream as Redis records it. */
  private streamArgs(stream: ChatStream): string[] {
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

  private hold(stream: ChatStream, prefix: string, fence: bigint, predecessorsGone: Promise<unknown>, leaseUntil: number): void {
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




  /** Before the stream writes a batch of tokens: see Leases.check. */
  checkLease(stream: ChatStream): Promise<void> | undefined {
    return this.leases.check(stream);
  }

  private onMessage(channel: string, message: string): void {
    if (channel === channels.stop) {
      const space = message.indexOf(' ');
      const stream = this.local.get(message.slice(0, space));
      if (stream && stream.cancel(message.slice(space + 1) as CancelReason)) this.log.info('stream_stop_signal', { trace: stream.id, reason: message.slice(space + 1) });
    } else if (channel === channels.released) {
      this.releaseWaits.released(message);
    }
  }

  /** A Redis restarted empty lost every record and log: running streams' mirrors write theirs back now, the restorer the ended ones'. */
  private afterReconnect(): Promise<void> {
    return this.restorer.afterReconnect(() => [...this.held.values()].map((h) => ({ record: h.record, recheck: () => recheck(h) })), (err) => this.trouble(err), this.closing.signal);
  }

  private trouble(error: string): void {
    if (this.redisTrouble === undefined) this.log.warn('redis_unavailable', { error, streams_running: this.local.size });
    this.redisTrouble = error;
  }
}

