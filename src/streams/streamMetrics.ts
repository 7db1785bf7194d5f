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
  upstreamError(code: string): void;
}

export const noMetrics: StreamMetrics = {
  streamStarted() {},
  streamEnded() {},
  supersedeWaited() {},
  firstToken() {},
  upstreamError() {},
};
