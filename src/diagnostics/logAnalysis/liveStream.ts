import type { LineRef } from '../../shared/lifecycle.js';

/** What one stream looked like while it was live; dropped at its stream_end (constant memory). */
export interface LiveStream {
  trace: string;
  session: string;
  /** Sessions are per API key: `key/session`. */
  sessionKey: string;
  /** The instance that runs it (`instance=`, or the log it came from). */
  instance: string;
  startMs: number;
  startLine: string;
  /** Where its stream_start is (when the walk numbers lines). */
  startAt: LineRef | undefined;
  inWindow: boolean;
  /** Streams of its session that were live at its start: each must get a prev_stream_* line. */
  pending: Set<string>;
  superseding: boolean;
  waitedMs: number;
  waitRecorded: boolean;
  /** Predecessors it stopped waiting for at the cancel timeout: overlap with those is the documented path. */
  timeoutFor: Set<string>;
  abandoned: boolean;
  generating: boolean;
  /** Predecessors on other instances that ended just after it started (the handover race: maybe no wait line). */
  endedAtStart: Set<string>;
  /**
   * Predecessors on other instances whose release its own instance saw (prev_stream_finished_cleanly):
   * their stream_end, written by their instance after the release, can merge in after this line.
   */
  releasedElsewhere: Set<string>;
  cancelled: { ms: number; reason: string; line: string; at: LineRef | undefined } | undefined;
  cleanup: boolean;
  pop: 'success' | 'failed' | undefined;
  lastError: string | undefined;
  lastErrorAt: LineRef | undefined;
}
