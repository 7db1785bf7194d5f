import type { BackendRequest, TraceHeaders } from '../backends/types.js';
import type { ChatStream } from './chatStream.js';

/**
 * What a stream tells the traces (docs/observability.md "Traces (OpenTelemetry)"): the
 * interface only. Its one implementation (src/tracing/) is loaded when tracing is
 * configured; without it runStream holds `undefined` and calls nothing. Every call is
 * once per stream, never per token: the span's events are read off the stream at its end.
 */
export interface StreamTracer {
  /**
   * The stream began (`stream_start`): its span starts, a child of `parent` (the request's
   * span, opaque here: whatever the server's tracing handed the starter), or a root.
   */
  startStream(stream: ChatStream, request: BackendRequest, backend: string, parent: unknown): StreamSpan;
}

export interface StreamSpan {
  /** The W3C trace context the upstream request carries (BackendRequest.trace); undefined when not sampled. */
  readonly headers: TraceHeaders | undefined;
  /** The streams this one superseded (any instance's): the span links to theirs. */
  supersedes(streamIds: string[]): void;
  /** After `stream_end`: its attributes, events and status are read off the ended stream, and the span ends. */
  end(stream: ChatStream): void;
}
