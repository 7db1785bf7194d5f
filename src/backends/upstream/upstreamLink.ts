import type { UpstreamCloseOutcome } from './upstreamHttp.js';

/**
 * Whether the engine really stopped after a cancel, as its backend established it
 * (docs/backends.md "Stop at the engine"). `confirmed` rests on something the
 * engine itself says (its sequence is free, its slot is idle, it closed the
 * connection); anything else is `unconfirmed`.
 */
export interface EngineStop {
  verdict: 'confirmed' | 'unconfirmed';
  /** From the abort to the engine's stop (confirmed), or to the moment Jarvis gave up waiting (unconfirmed). */
  ms: number;
  /** What the verdict rests on, e.g. `sequence_free`, `slot_idle`, `connection_closed`, `grace_expired`, `no_probe`. */
  how: string;
  /** The engine's own name for the work (a llama.cpp slot id), when it has one. */
  slot?: number | undefined;
}

/** Engine work still running after the stream that asked for it ended (`/debug/streams`). */
export interface LingeringWork {
  stream_id: string;
  /** How long ago its stream ended. */
  since_ms: number;
  /** Where it runs: `slot 3 of http://127.0.0.1:8080`, `sequence 1 of tiny`. */
  where: string;
}

/**
 * The owning stream's side of an upstream connection. The abort signal passed to
 * `Backend.stream` asks the upstream to stop (gracefully: Jarvis waits for it to
 * close); `killSignal` says stop waiting and cut the connection now.
 */
export interface UpstreamLink {
  /** The owning stream's id (for lingering work and log lines). */
  readonly id?: string;
  killSignal?: AbortSignal;
  /** The request is being sent to the upstream now (the `Server-Timing` figures). */
  upstreamRequested?(): void;
  upstreamOpened?(): void;
  /** `readAt`: when the bytes holding the reply's first token (or reasoning, or tool call) were read. */
  upstreamFirstToken?(readAt: number): void;
  upstreamClosed?(outcome: UpstreamCloseOutcome, closeMs: number): void;
  /** The engine must load the model before it can answer: the client is told (a `status` event). */
  modelLoading?(model: string): void;
  /** The owning stream's session and key: routing keeps a session on one server and queues fairly between keys. */
  readonly sessionId?: string;
  readonly owner?: string;
  /** Every server of the model is full: the stream waits in the queue at this position (1: next). */
  queued?(position: number): void;
  /** The server that answers the stream was chosen (and, after a failover before the first token, chosen again). */
  routed?(upstream: string): void;
  /** After an abort, once known: whether the engine stopped. Called at most once per stream. */
  engineStopped?(stop: EngineStop): void;
}
