import type { EngineStop } from '../backends/upstream/upstreamLink.js';
import type { ChatStream } from './chatStream.js';

/**
 * What the stream lifecycle reports for metrics (`/metrics`). Called per stream,
 * never per token: token counts arrive once, with the stream's end.
 */
export interface StreamMetrics {
  streamStarted(stream: ChatStream): void;
  /** reason: done | superseded | stopped | client_closed | shutdown | error */
  streamEnded(stream: ChatStream, reason: string): void;
  /** A new stream's wait for the stream(s) it superseded. */
  supersedeWaited(ms: number, outcome: 'clean' | 'timeout' | 'abandoned'): void;
  firstToken(stream: ChatStream, ms: number): void;
  /** A stream Jarvis cut short, with the verdict on its engine (docs/operations.md "Stop at the engine"). */
  engineStop?(backend: string, stop: EngineStop): void;
  /** `stream`: the failing stream, whose upstream labels the count (docs/operations.md "Live state and metrics"). */
  upstreamError(code: string, stream?: ChatStream): void;
  /** Cluster mode: this instance found a stream whose owner stopped renewing its lease, and recorded it lost. */
  streamLost(foundBy: LostFoundBy): void;
}

/** Who found a lapsed lease: a new prompt's acquire, a Stop, or a reader of the stream's log. */
export type LostFoundBy = 'acquire' | 'stop' | 'reader';

export const noMetrics: StreamMetrics = {
  streamStarted() {},
  streamEnded() {},
  supersedeWaited() {},
  firstToken() {},
  upstreamError() {},
  streamLost() {},
};
