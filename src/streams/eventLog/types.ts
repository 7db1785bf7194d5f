import type { JarvisEvent, StatusEvent, TerminalEvent } from '../../shared/events.js';

// The per-stream event log (resume-and-cluster.md §2–3): every stream's events,
// kept apart from any HTTP response, so that readers can come, go and come back.
// Catch-up and the live tail are read from the same log; there is no second channel.

/**
 * What one read step hands a reader: everything new since its last step (bounded),
 * as plain texts rather than one event object per token, so that a reader costs
 * one await and a few allocations per slice, not per token.
 *
 * Positions: the status event is -1, token `seq` n is n, the terminal event follows
 * the last token (its position is the token count). A reader that has seen position
 * p asks for `after = p`; SSE's `id:` is it.
 */
export interface LogSlice {
  /** The status event (position -1), when the read started before it. */
  status?: StatusEvent;
  /** The seq of `texts[0]`. */
  from: number;
  texts: string[];
  /** The terminal event, once the reader has every token. */
  terminal?: TerminalEvent;
}

/** One event with its place in the log. */
export interface LoggedEvent {
  seq: number;
  event: JarvisEvent;
}

/** A slice as events (for readers that want them one by one, and for tests). */
export function sliceEvents(slice: LogSlice, streamId: string, sessionId: string): LoggedEvent[] {
  const out: LoggedEvent[] = [];
  if (slice.status) out.push({ seq: -1, event: slice.status });
  slice.texts.forEach((text, i) => {
    const seq = slice.from + i;
    out.push({ seq, event: { type: 'token', text, seq, stream_id: streamId, session_id: sessionId } });
  });
  if (slice.terminal) out.push({ seq: slice.from + slice.texts.length, event: slice.terminal });
  return out;
}

/** `after` for "from the very start, status event included". */
export const FROM_START = -2;

/**
 * ok · fenced: a newer owner holds the stream (stop writing) · stopped: the log has
 * its terminal event, or is gone · full: the log reached its size bound.
 */
export type AppendResult = 'ok' | 'fenced' | 'stopped' | 'full';

/** Synchronous when the log can answer at once (memory); a remote log returns a promise. */
export type Awaitable<T> = T | Promise<T>;

export interface StreamLogInfo {
  streamId: string;
  sessionId: string;
  /** The API key's name that started the stream ('' without keys); readers must match it. */
  owner: string;
  model: string;
  /** Tokens logged so far. */
  tokens: number;
  /** Set once the stream has ended; its position is `tokens`. */
  terminal: TerminalEvent | undefined;
}

/**
 * MemoryEventLog now; a Redis one (cluster issue) implements the same contract,
 * run by the same suite (test/eventLog.contract.test.ts):
 * - one appender per stream, holding the stream's fence; readers never write;
 * - a reader gets positions after+1… exactly once each, in order, then the terminal
 *   event, then its iteration ends, however the reads and appends interleave;
 * - readers pull at their own pace: an append never waits for a reader;
 * - a log is kept until `retentionMs` after its terminal event; then it is gone
 *   (`info` is undefined, `read` yields nothing): "gone", never a hang.
 */
export interface StreamEventLog {
  /** Opens the log of the stream that `status` names (the first event of every stream). */
  create(status: StatusEvent, owner: string, fence: bigint): Awaitable<void>;
  append(streamId: string, seq: number, text: string, fence: bigint): Awaitable<AppendResult>;
  /** Writes the terminal event once; false when the log had already ended, is gone or is fenced. */
  finish(streamId: string, event: TerminalEvent, fence: bigint): Awaitable<boolean>;
  info(streamId: string): Promise<StreamLogInfo | undefined>;
  /**
   * The events after position `after`, then the live tail up to and including the
   * terminal event, in slices (all that is there, bounded). Ends after the terminal
   * event, or early when `signal` aborts or the log is gone.
   */
  read(streamId: string, after: number, signal: AbortSignal): AsyncIterable<LogSlice>;
  close(): Promise<void>;
}
