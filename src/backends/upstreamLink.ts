import type { UpstreamCloseOutcome } from './upstreamHttp.js';

/**
 * The owning stream's side of an upstream connection. The abort signal passed to
 * `Backend.stream` asks the upstream to stop (gracefully: Jarvis waits for it to
 * close); `killSignal` says stop waiting and cut the connection now.
 */
export interface UpstreamLink {
  killSignal?: AbortSignal;
  upstreamOpened?(): void;
  upstreamClosed?(outcome: UpstreamCloseOutcome, closeMs: number): void;
}
