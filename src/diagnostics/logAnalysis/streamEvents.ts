// Events the analysis reads; other lines are skipped without being parsed (speed).
export const STREAM_EVENTS = new Set([
  'stream_start',
  'prev_stream_finished_cleanly',
  'prev_stream_timeout_on_cancel',
  'prev_stream_wait_abandoned',
  'stream_cancelled',
  'stream_cleanup_START',
  'stream_registry_pop_success',
  'stream_registry_pop_failed',
  'stream_end',
  'upstream_error',
  'stream_internal_error',
  'server_listening',
  'shutdown_complete',
  'log_lines_dropped',
  'stream_lost',
  'lease_lost',
  // Redis restarts (redisRestarts.ts).
  'redis_restarted',
  'redis_log_restored',
  'redis_log_resumed',
  'redis_log_lost',
  'answer_log_lost',
  // The engine after a Stop (engineStops.ts).
  'engine_still_generating',
  'engine_stopped_late',
  'engine_watch_gave_up',
  'engine_stopped',
  // Several model servers (upstreamFacts.ts).
  'upstream_routed',
  'upstream_failover',
  'upstream_down',
  'upstream_up',
]);

/** The event name without parsing the whole line: `<time> <LEVEL> <event> …`. */
export function eventOf(raw: string): string | undefined {
  const a = raw.indexOf(' ');
  if (a <= 0) return undefined;
  const b = raw.indexOf(' ', a + 1);
  if (b < 0) return undefined;
  let c = raw.indexOf(' ', b + 1);
  if (c < 0) c = raw.length;
  return c > b + 1 ? raw.slice(b + 1, c) : undefined;
}
