import type { Backend } from '../types.js';

/**
 * One model server of JARVIS_UPSTREAMS (docs/upstreams.md): `name=kind:target;key=value…`.
 * The single-upstream variables (JARVIS_BACKEND, OLLAMA_HOST…) are the same thing with one entry.
 */
export interface UpstreamSpec {
  /** How logs, metrics, /health and the UI name it: `gpu1`. */
  name: string;
  /** A kind of the registry (registry.ts): `ollama`, `openai`, `embedded`, `demo`. */
  kind: string;
  /** Where it is, as the kind reads it: Ollama's host, the OpenAI base URL, the models folder. */
  target: string;
  /** `max_parallel`: streams it is given at once, across every instance (Infinity: no bound). */
  maxParallel: number;
  /** `weight`: its share of the streams among the servers of a model (default 1). */
  weight: number;
  /** `models`: the only models it is used for (a `|`-separated list); undefined: every model it lists. */
  models?: string[];
}

/** One upstream, built: its spec and the backend that speaks to it. */
export interface Upstream {
  readonly spec: UpstreamSpec;
  readonly backend: Backend;
}

/** up: answered its last probe or request · down: failed, not asked again before its back-off ends · unknown: not probed yet. */
export type UpstreamState = 'up' | 'down' | 'unknown';

/** A server a slot may be given on. */
export interface SlotCandidate {
  name: string;
  maxParallel: number;
  weight: number;
}

/** What a stream asks the ledger for before its upstream request is sent. */
export interface SlotRequest {
  /** The stream's id: its slot's holder and its place in the queue. */
  id: string;
  /** The API key's name ('' without keys): the queue is fair between keys, so one key cannot starve the others. */
  owner: string;
  /** The queue it waits in when every candidate is full: the model's name. */
  queue: string;
  /** The healthy servers that serve the model (and the request's features), those already tried left out. */
  candidates: SlotCandidate[];
  /** Conversation affinity: the server that answered the session's last prompt, taken first while it has room. */
  preferred?: string | undefined;
  /**
   * Whether a candidate may be given a slot now (the health board's word): a server that went
   * down while the request waited is passed over, unless every candidate is down (then the
   * request is sent and fails over at once, rather than waiting for a server that may never come
   * back). Absent: every candidate may.
   */
  usable?: ((upstream: string) => boolean) | undefined;
}

/** A slot held on one upstream. */
export interface SlotGrant {
  upstream: string;
  /** How long it waited in the queue (0: a slot was free). */
  waitedMs: number;
  /** Frees the slot (the queue's next waiter takes it); safe to call more than once. */
  release(): void;
}

/** The ledger's bounds (JARVIS_UPSTREAM_QUEUE, JARVIS_UPSTREAM_QUEUE_TIMEOUT_MS). */
export interface QueueBounds {
  /** Waiters per queue; one more is refused at once with `upstream_busy` (503, Retry-After). */
  maxQueue: number;
  /** Longest wait in a queue; past it the waiter is refused with `upstream_busy`. */
  maxWaitMs: number;
}

/**
 * Who holds the slots of every upstream and who waits for one (docs/upstreams.md "Queues"):
 * this process's (LocalSlotLedger) or the cluster's (Redis), so that all instances together
 * never give a server more than its `max_parallel`.
 */
export interface SlotLedger {
  /**
   * A slot on one of the candidates: at once when one has room (the preferred one first,
   * else the least busy for its weight: lowest (active + 1) / weight, ties by the order given), else after waiting
   * in the request's queue, in fair order between keys (start-time fair queuing). `onQueued`
   * runs with the waiter's 1-based position each time it changes. Rejects with a
   * `upstream_busy` BackendError when the queue is full or the wait passes `maxWaitMs`, and
   * with the signal's reason when aborted (the waiter leaves the queue; no slot is taken).
   */
  acquire(request: SlotRequest, signal: AbortSignal, onQueued?: (position: number) => void): Promise<SlotGrant>;
  /** Streams holding a slot on that upstream now (in a cluster: across instances, as last read). */
  active(upstream: string): number;
  /** Waiters in that queue now (all queues when omitted). */
  queued(queue?: string): number;
  /** Something changed outside the ledger (a server came back up): waiters look again. */
  wake(): void;
  close(): Promise<void>;
}

/** What is known about one upstream's health. */
export interface UpstreamHealthState {
  state: UpstreamState;
  /** The last failure, in words, while it is down (and kept after it is up again, for /health). */
  lastError?: string | undefined;
  /** When it went down (epoch ms), while it is down. */
  downSince?: number | undefined;
  /** When it is asked again (epoch ms), while it is down. */
  retryAt?: number | undefined;
}

/**
 * The health of every upstream (docs/upstreams.md "Health and failover"): probed in the
 * background, marked down by a failed request too, with back-off. In a cluster an
 * instance's finding is shared with the others through Redis.
 */
export interface UpstreamHealthBoard {
  get(name: string): UpstreamHealthState;
  /** A probe or a request failed with a connect error or a 5xx. */
  markDown(name: string, error: string): void;
  /** A probe answered, or a stream got its first token. */
  markUp(name: string): void;
  close(): Promise<void>;
}

/**
 * Conversation affinity (docs/upstreams.md "Affinity"): the server that answered each
 * session's last prompt, bounded and forgotten after a while. In a cluster shared through Redis.
 */
export interface AffinityMap {
  get(session: string): Promise<string | undefined>;
  set(session: string, upstream: string): void;
  close(): Promise<void>;
}
