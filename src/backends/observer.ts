import type { UpstreamCloseOutcome } from './upstreamHttp.js';

/** Optional hooks a backend calls so the stream that owns it can report upstream state. */
export interface StreamObserver {
  upstreamOpened?(): void;
  upstreamClosed?(outcome: UpstreamCloseOutcome, closeMs: number): void;
}
