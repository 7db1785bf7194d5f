import type { UpstreamCloseOutcome } from './upstreamHttp.js';

/**
 * The owning stream's side of an upstream connection. The abort signal passed to
 * `Backend.stream` asks the upstream to stop (gracefully: Jarvis waits for it to
 * close); `killSignal` says stop waiting and cut the connection now.
 */
export interface UpstreamLink {
  killSignal?: AbortSignal;
  /** The request is being sent to the upstream now (the `Server-Timing` figures). */
  upstreamRequested?(): void;
  upstreamOpened?(): void;
  /** `readAt`: when the bytes holding the reply's first token (or reasoning, or tool call) were read. */
  upstreamFirstToken?(readAt: number): void;
  upstreamClosed?(outcome: UpstreamCloseOutcome, closeMs: number): void;
}
