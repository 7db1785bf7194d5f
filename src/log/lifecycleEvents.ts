// The lifecycle lines of the system log: the events the stream timeline is drawn from
// (docs/observability.md "The live timeline"). Each is tied to a stream or a session and
// written once or a few times per stream, never per token (`stream_token`, `stream_reasoning`
// are not here). The live feed (src/server/ops/) gets these as they are written; `jarvis
// diagnose --html` reads the same events back from log files.
import { FIRST_TOKEN_EVENT } from '../shared/lifecycle.js';

export const LIFECYCLE_EVENTS: readonly string[] = [
  // A stream's life (src/streams/runStream.ts, chatStream.ts).
  'stream_start',
  'stream_end',
  'stream_cancelled',
  'stream_truncated',
  'stream_internal_error',
  'stream_tool_call',
  'upstream_error',
  'upstream_killed',
  'cluster_unavailable',
  // The supersede wait (src/streams/registry.ts, cluster/sessionTakeover.ts).
  'prev_stream_finished_cleanly',
  'prev_stream_timeout_on_cancel',
  'prev_stream_wait_abandoned',
  // Stop (the stop endpoints; in a cluster, its signal to the owner).
  'session_stop',
  'session_stop_sent',
  'stream_stop_signal',
  'stream_stop_marker_seen',
  // Readers, and the cluster's leases.
  'stream_reader_attached',
  'stream_log_refused',
  'stream_lost',
  'lease_lost',
  'redis_log_lost',
  'redis_log_resumed',
  // Several model servers (src/backends/routing/).
  'upstream_routed',
  'upstream_queued',
  'upstream_failover',
  // The engine (in-process, or a llama.cpp server's slots) after a Stop or in its queue.
  'engine_queued',
  'engine_dequeued',
  'engine_prompt',
  'engine_stopped',
  'engine_stopped_late',
  'engine_still_generating',
  'engine_verdict_late',
  'engine_watch_gave_up',
  // The server's own life: where lanes begin and end.
  'server_listening',
  'shutdown_start',
  'shutdown_streams_unfinished',
  'shutdown_complete',
];

/** The events above, plus the feed-only first-token record (src/shared/lifecycle.ts). */
export const LIFECYCLE_EVENT_SET: ReadonlySet<string> = new Set([...LIFECYCLE_EVENTS, FIRST_TOKEN_EVENT]);

export function isLifecycleEvent(event: string): boolean {
  return LIFECYCLE_EVENT_SET.has(event);
}
