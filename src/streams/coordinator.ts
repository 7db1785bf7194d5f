import type { CancelReason } from '../shared/events.js';
import type { ChatStream } from './chatStream.js';
import type { RegisterOutcome, StreamRegistry } from './registry.js';

/**
 * The session rules (docs/api.md, the session rules) as one interface, kept by one process
 * (LocalCoordinator) or by every instance of a cluster together (RedisCoordinator,
 * src/streams/cluster/). `acquire` makes a stream its session's one generator,
 * after the bounded wait for its predecessor; `release` is called once, by the
 * stream's own `finally`.
 */
export interface SessionCoordinator {
  /** Live streams on this instance. */
  readonly size: number;
  /** Whether the session has a live stream on this instance (a new prompt on it supersedes, not adds). */
  hasSession(owner: string, sessionId: string): boolean;
  get(streamId: string): ChatStream | undefined;
  /** This instance's live streams, or only those of `owner`. */
  list(owner?: string): ChatStream[];
  /**
   * Optional first step of `acquire`, awaited before the stream's status event goes out: takes the
   * session at once where that needs a round trip (the cluster's Redis), so a client that saw the
   * status and sends another prompt, on any instance, is ordered after it. One process needs none.
   */
  claim?(stream: ChatStream): Promise<void>;
  acquire(stream: ChatStream): Promise<RegisterOutcome>;
  /**
   * Optional, asked between `claim` and `acquire` only when tracing is on: the ids of the streams
   * `stream` supersedes, on any instance (its span links to theirs, docs/observability.md).
   */
  superseded?(stream: ChatStream): Promise<string[]>;
  /**
   * Optional, before each batch of tokens is written: a promise to wait for when the stream's hold
   * on its session must be confirmed first (the cluster: its lease may have lapsed while the process
   * was paused); undefined, the common case, when it may write at once.
   */
  checkLease?(stream: ChatStream): Promise<void> | undefined;
  /** Removes the stream (throws if it was not acquired; the caller logs the failure) and lets its successor go. */
  release(stream: ChatStream): void;
  /** Stops `owner`'s session `sessionId` wherever its stream runs; true if one was still running. Idempotent. */
  stop(owner: string, sessionId: string, reason?: CancelReason): Promise<boolean>;
  cancelAll(reason: CancelReason): ChatStream[];
  /** Why no new stream can start now (a 503), or undefined when one can. */
  unavailable(): string | undefined;
  close(): Promise<void>;
}

/** One process: the sessions live in this process's StreamRegistry, and nothing else is needed. */
export class LocalCoordinator implements SessionCoordinator {
  constructor(readonly registry: StreamRegistry) {}

  get size(): number {
    return this.registry.size;
  }

  hasSession(owner: string, sessionId: string): boolean {
    return this.registry.hasSession(owner, sessionId);
  }

  get(streamId: string): ChatStream | undefined {
    return this.registry.get(streamId);
  }

  list(owner?: string): ChatStream[] {
    return this.registry.list(owner);
  }

  acquire(stream: ChatStream): Promise<RegisterOutcome> {
    return this.registry.register(stream);
  }

  /** Before `acquire`: the session's live streams are the ones it will supersede. */
  async superseded(stream: ChatStream): Promise<string[]> {
    return this.registry.sessionStreams(stream.owner, stream.sessionId).flatMap((s) => (s === stream ? [] : [s.id]));
  }

  release(stream: ChatStream): void {
    this.registry.pop(stream);
  }

  async stop(owner: string, sessionId: string, reason: CancelReason = 'stopped'): Promise<boolean> {
    return this.registry.stop(owner, sessionId, reason);
  }

  cancelAll(reason: CancelReason): ChatStream[] {
    return this.registry.cancelAll(reason);
  }

  unavailable(): string | undefined {
    return undefined;
  }

  async close(): Promise<void> {}
}

/** Thrown by `acquire` when the cluster cannot be asked (Redis down): the stream ends with `cluster_unavailable`. */
export class ClusterUnavailableError extends Error {}
