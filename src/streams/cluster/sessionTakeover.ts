import type { Redis } from 'ioredis';
import { sleep, untilAborted } from '../../shared/sleep.js';
import type { SystemLog } from '../../log/systemLog.js';
import type { ChatStream } from '../chatStream.js';
import { ClusterUnavailableError } from '../coordinator.js';
import type { RegisterOutcome, StreamRegistry } from '../registry.js';
import type { StreamMetrics } from '../streamMetrics.js';
import type { HeldStreams } from './heldStreams.js';
import type { Leases, Scripts } from './leases.js';
import { channels, sessionPrefix } from './redis/keys.js';
import type { RedisHealth } from './redisHealth.js';
import type { ReleaseWaits } from './releaseWaits.js';

/** What `claim` got: the ACQUIRE script's answer, and the local registry's side of it. */
interface Claim {
  r: string[];
  /** When the ACQUIRE script was sent (performance.now()): the lease runs from no earlier. */
  sentAt: number;
  /** This instance's streams of the session that were live before this one. */
  olderHere: ChatStream[];
  localWait: Promise<RegisterOutcome>;
}

/**
 * A new stream takes its session across instances (docs/clusters.md, supersede): this
 * instance's own rules first (StreamRegistry: local predecessors, the bounded wait, the
 * prev_stream_* lines), then one Lua step in Redis: the next fence (a counter that only
 * grows), a stop marker on the previous stream, a lease on the new one. When the previous
 * stream runs on another instance, it is signalled (pub/sub) and its release awaited, bounded
 * by JARVIS_CANCEL_TIMEOUT_MS, with the same lines naming both instances.
 */
export class SessionTakeover {
  private readonly claims = new Map<string, Promise<Claim>>();

  constructor(
    private readonly redis: Redis,
    private readonly scripts: Scripts,
    private readonly local: StreamRegistry,
    private readonly heldStreams: HeldStreams,
    private readonly leases: Leases,
    private readonly releaseWaits: ReleaseWaits,
    private readonly log: SystemLog,
    private readonly metrics: StreamMetrics,
    private readonly options: { instance: string; leaseMs: number; cancelTimeoutMs: number },
    private readonly health: RedisHealth,
  ) {}

  /**
   * Takes the session for `stream` at once, here and in Redis, before its status event goes out
   * (runStream): a client that saw the status and sends another prompt, on any instance, comes
   * after this one in Redis too, so the newest prompt wins. `acquire` then does the bounded wait.
   */
  claim(stream: ChatStream): Promise<Claim> {
    let claim = this.claims.get(stream.id);
    if (!claim) {
      claim = this.take(stream);
      claim.catch(() => {});
      this.claims.set(stream.id, claim);
    }
    return claim;
  }

  /**
   * After `claim`, before `acquire` (tracing on): the streams it supersedes, this instance's and
   * the one Redis named, which may run on another instance (its span context is found by id).
   */
  async superseded(stream: ChatStream): Promise<string[]> {
    const claim = await this.claims.get(stream.id)?.catch(() => undefined);
    if (!claim) return [];
    const ids = claim.olderHere.map((s) => s.id);
    const [, prevId, , prevState] = claim.r;
    if (prevId && (prevState === 'live' || prevState === 'lost') && !ids.includes(prevId)) ids.push(prevId);
    return ids;
  }

  /** The stream ended: a claim it left (it ended before `acquire`) is dropped. */
  forget(stream: ChatStream): void {
    this.claims.delete(stream.id);
  }

  private async take(stream: ChatStream): Promise<Claim> {
    const olderHere = this.local.sessionStreams(stream.owner, stream.sessionId);
    const localWait = this.local.register(stream);
    const prefix = sessionPrefix(stream.owner, stream.sessionId);
    const sentAt = performance.now();
    try {
      const r = await this.scripts.jarvisAcquire(prefix, ...this.heldStreams.streamArgs(stream));
      return { r, sentAt, olderHere, localWait };
    } catch (err) {
      this.health.failed(err);
      await localWait;
      throw new ClusterUnavailableError(this.health.unavailable() ?? `Redis failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async acquire(stream: ChatStream): Promise<RegisterOutcome> {
    const { r, sentAt, olderHere, localWait } = await this.claim(stream);
    this.claims.delete(stream.id);
    const prefix = sessionPrefix(stream.owner, stream.sessionId);
    const { leaseMs, instance, cancelTimeoutMs } = this.options;
    const [fenceText, prevId, prevInstance, prevState] = r;
    const fence = BigInt(fenceText as string);
    const remotePrev = prevState === 'live' && prevInstance !== instance;
    // The previous stream runs elsewhere: signal it (its owner also polls the marker).
    if (remotePrev) this.redis.publish(channels.stop, `${prevId} superseded`).catch(() => {});
    // Its release in Redis, here or elsewhere, comes only once everything it superseded is gone
    // (see HeldStreams.release): waiting for it waits for the whole chain, bounded.
    const released = prevState === 'live' ? this.releaseWaits.wait(prefix, prevId as string) : Promise.resolve('clean' as const);
    const predecessorsGone = Promise.race([Promise.all([released, ...olderHere.map((s) => s.finished)]), sleep(cancelTimeoutMs, undefined, { unref: true })]);
    this.heldStreams.hold(stream, prefix, fence, predecessorsGone, sentAt + leaseMs);
    const started = performance.now();
    const outcome = await localWait;
    const fields = { trace: prevId, new_trace: stream.id, session: stream.sessionId, key: stream.owner || undefined, prev_instance: prevInstance, fence: fence.toString() };
    if (prevState === 'lost') {
      this.leases.recordLost('acquire', { ...fields, prev_instance: prevInstance });
    } else if (remotePrev) {
      const result = await untilAborted(released, stream.signal);
      const waited = Math.round(performance.now() - started);
      this.metrics.supersedeWaited(waited, result === 'clean' ? 'clean' : result === 'timeout' ? 'timeout' : 'abandoned');
      if (result === 'clean') this.log.info('prev_stream_finished_cleanly', { ...fields, waited_ms: waited });
      else if (result === 'timeout') this.log.warn('prev_stream_timeout_on_cancel', { ...fields, waited_ms: waited, timeout_ms: cancelTimeoutMs });
      else this.log.info('prev_stream_wait_abandoned', { ...fields, waited_ms: waited });
      if (outcome === 'started') return result === 'clean' ? 'waited_clean' : result === 'timeout' ? 'waited_timeout' : 'aborted_while_waiting';
    } else if (prevState === 'live') {
      // The previous stream ran here (the local registry waited for it and logged it); it may
      // itself have been superseded while waiting for one elsewhere: wait for its release too.
      await untilAborted(released, stream.signal);
    }
    return outcome;
  }
}
