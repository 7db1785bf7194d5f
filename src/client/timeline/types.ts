// The timeline's model types (docs/observability.md "The live timeline"): what the `/ops` page and the
// report page draw. Built from LifecycleRecords only, so a live feed and a log file give the same picture.

import type { LifecycleRecord } from '../../shared/lifecycle.js';

/** How a stream ended (`stream_end`'s reason, its error code for `error`/`timeout`), or `live` while it runs. */
export type Outcome =
  | 'live'
  | 'done'
  | 'superseded'
  | 'stopped'
  | 'client_closed'
  | 'shutdown'
  | 'revoked'
  | 'error'
  | 'timeout'
  | 'lost';

export const OUTCOMES: readonly Outcome[] = ['live', 'done', 'superseded', 'stopped', 'client_closed', 'shutdown', 'revoked', 'error', 'timeout', 'lost'];

export type MarkKind = 'first_token' | 'supersede_wait' | 'cancel' | 'upstream_closed' | 'engine_confirmed' | 'engine_unconfirmed' | 'lost';

/** A moment (or, for the supersede wait, a span) on a stream's bar. */
export interface Mark {
  kind: MarkKind;
  /** Epoch ms. */
  t: number;
  /** The end of a span (the supersede wait), epoch ms. */
  until?: number;
  /** Tooltip text: what happened and its figures. */
  label: string;
}

/** The cancel verdict `stream_end` carries (src/streams/cancelVerdict.ts `cancelFields`). */
export interface Verdict {
  cancel: string;
  ms?: number;
  how?: string;
  slot?: string;
}

/** One stream: a bar from `stream_start` to `stream_end`. */
export interface StreamBar {
  id: string;
  session: string;
  /** The instance its `stream_start` came from (else the first record's). */
  instance: string;
  key?: string;
  model?: string;
  backend?: string;
  upstream?: string;
  /** The `stream_start` time; until it arrives, the earliest record's. */
  start: number;
  /** Whether `stream_start` was seen (a record of it may come before its start, across instances). */
  started: boolean;
  /** `stream_end` (or `stream_lost`) time; undefined while live. */
  end?: number;
  outcome: Outcome;
  errorCode?: string;
  finish?: string;
  tokens?: number;
  durationMs?: number;
  ttftMs?: number;
  firstToken?: number;
  /** The first cancel request (stream_cancelled, stream_stop_signal, session_stop). */
  cancelAt?: number;
  cancelReason?: string;
  verdict?: Verdict;
  /** The stream that superseded it / the ones it waited for. */
  supersededBy?: string;
  supersedes: string[];
  marks: Mark[];
  /** Its lines, in time order, for the detail panel. */
  records: LifecycleRecord[];
  /** Timing fields of `stream_end` (upstream_ms, first_byte_ms, jarvis_ms…), as numbers. */
  timings: Record<string, number>;
}

export type FindingKind = 'overlap' | 'no_end' | 'unconfirmed_cancel' | 'slow_cancel' | 'lost' | 'report';

/** Something worth a look, found as records arrive (or, in a report, given by `jarvis diagnose`). */
export interface Finding {
  /** Stable: the same problem found twice is one finding. */
  id: string;
  kind: FindingKind;
  severity: 'problem' | 'warning';
  title: string;
  detail?: string;
  at: number;
  streams: string[];
  sessions: string[];
}

export interface TimelineOptions {
  /** Keep streams that ended within this many ms of the newest record (live: the last minutes). */
  keepMs?: number;
  /** At most this many streams (the oldest ended ones go first). */
  maxStreams?: number;
  /** A stream still open this long after its start is flagged as without end. */
  noEndMs?: number;
  /** An instance that wrote nothing for this long while its streams are open: they are flagged. */
  silentMs?: number;
  /** A cancel that took longer than this to end its stream is slow. */
  slowCancelMs?: number;
}

export interface TimelineFilter {
  session?: string;
  key?: string;
  model?: string;
  upstream?: string;
  /** Only these outcomes (empty or absent: all). */
  outcomes?: ReadonlySet<Outcome>;
}

/** A lane: one session (per instance when records come from several). */
export interface Lane {
  key: string;
  session: string;
  instance: string;
  /** The streams' API key, when they share one. */
  apiKey?: string;
  streams: StreamBar[];
}
