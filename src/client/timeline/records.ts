// Reading LifecycleRecord fields: which stream a line is about and its numbers. The field names are
// the ones the stream code writes (src/streams/runStream.ts, registry.ts, chatStream.ts, cluster/).

import type { LifecycleRecord } from '../../shared/lifecycle.js';
import type { Outcome } from './types.js';

/** The stream a line is about: `trace` on most, `stream_id` on readers, `stream` on the engine watch's lines. */
export function streamIdOf(record: LifecycleRecord): string | undefined {
  const f = record.fields;
  return f.trace || f.stream_id || f.stream || undefined;
}

export function num(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

const CANCEL_REASONS: ReadonlySet<string> = new Set(['superseded', 'stopped', 'client_closed', 'shutdown', 'revoked']);

/** `stream_end`'s outcome: its reason, with an error's code making `timeout` and `lost` outcomes of their own. */
export function outcomeOfEnd(fields: Record<string, string>): Outcome {
  const reason = fields.reason ?? 'error';
  if (reason === 'done') return 'done';
  if (CANCEL_REASONS.has(reason)) return reason as Outcome;
  if (fields.error_code === 'timeout') return 'timeout';
  if (fields.error_code === 'lost') return 'lost';
  return 'error';
}

/**
 * The cancel-request lines: a Stop reaching the stream, a session's Stop, and in a cluster the Stop sent
 * to the owning instance and the signal or marker by which it got there (src/streams/cluster/).
 */
export const CANCEL_EVENTS: ReadonlySet<string> = new Set(['stream_cancelled', 'stream_stop_signal', 'session_stop', 'session_stop_sent', 'stream_stop_marker_seen']);

/** Lines that say the engine stopped generating for a stream (docs/operations.md "Stop at the engine"). */
export const ENGINE_CONFIRMED_EVENTS: ReadonlySet<string> = new Set(['engine_stopped', 'engine_stopped_late']);

/** Lines that say it did not (yet). */
export const ENGINE_UNCONFIRMED_EVENTS: ReadonlySet<string> = new Set(['engine_still_generating', 'engine_verdict_late', 'engine_watch_gave_up']);

/** The line as `key=value` text, for the detail panel and tooltips. */
export function recordText(record: LifecycleRecord): string {
  const fields = Object.entries(record.fields)
    .map(([k, v]) => `${k}=${/[\s"]/.test(v) || v === '' ? JSON.stringify(v) : v}`)
    .join(' ');
  return `${record.event} ${fields}`.trim();
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
