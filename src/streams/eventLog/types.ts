import type { StatusEvent, TerminalEvent, ToolCall } from '../../shared/events.js';
import type { ChoiceDelta, TokenLogprob } from '../../shared/logprobs.js';

// The per-stream event log (docs/conversations.md): every stream's events,
// kept apart from any HTTP response, so that readers can come, go and come back.
// Catch-up and the live tail are read from the same log; there is no second channel.

/**
 * What the log keeps between the status and the terminal event, in stream order: a token is its text.
 * Only a request that asked for them logs the last two kinds: a token's logprobs (logged just before
 * the token they score) and the pieces of its further replies (`n` > 1).
 */
export type LogItem =
  | string
  | { kind: 'reasoning'; text: string; seq: number }
  | { kind: 'tool_call'; call: ToolCall; index: number }
  | { kind: 'logprobs'; seq: number; content: TokenLogprob[] }
  | { kind: 'choice'; delta: ChoiceDelta };

/** What an item counts against the log's size bound, in characters (about). */
export function itemChars(item: LogItem): number {
  if (typeof item === 'string') return item.length;
  switch (item.kind) {
    case 'reasoning':
      return item.text.length;
    case 'tool_call':
      return item.call.name.length + item.call.arguments.length + item.call.id.length;
    case 'logprobs':
      return 32 * (1 + (item.content[0]?.top_logprobs?.length ?? 0)) * item.content.length;
    case 'choice':
      return (item.delta.text?.length ?? 0) + (item.delta.reasoning?.length ?? 0) + 32 * (item.delta.logprobs?.length ?? 0) + 8;
  }
}

/**
 * A place in a stream's log: after token `seq` (-1: before the first token) and
 * the `extra` events (reasoning, tool calls, the terminal event) that followed it.
 * Written `seq` or `seq:extra`; a stream with tokens only has cursors that are
 * token seqs, so `after=<seq>` and SSE `id:` are the seqs clients already know.
 * Cursors order as (seq, extra).
 */
export interface LogCursor {
  seq: number;
  extra: number;
}

/** Before everything, the status event included (`after` absent). */
export const FROM_START: LogCursor = { seq: -2, extra: 0 };
/** After the status event, before every token (`after=-1`). */
export const BEFORE_TOKENS: LogCursor = { seq: -1, extra: 0 };

export function formatCursor(c: LogCursor): string {
  return c.extra === 0 ? String(c.seq) : `${c.seq}:${c.extra}`;
}

/** Parses `seq` or `seq:extra` (seq >= -1, extra >= 0); undefined when malformed. */
export function parseCursor(text: string): LogCursor | undefined {
  const m = /^(-1|\d{1,15})(?::(\d{1,15}))?$/.exec(text);
  if (!m) return undefined;
  return { seq: Number(m[1]), extra: Number(m[2] ?? 0) };
}

export function compareCursors(a: LogCursor, b: LogCursor): number {
  return a.seq !== b.seq ? a.seq - b.seq : a.extra - b.extra;
}

/** The cursor after `item` for a reader at `c`. */
export function advance(c: LogCursor, item: LogItem | 'terminal'): LogCursor {
  return typeof item === 'string' ? { seq: c.seq + 1, extra: 0 } : { seq: Math.max(c.seq, -1), extra: c.extra + 1 };
}

/**
 * What one read step hands a reader: everything new since its last step
 * (bounded), as log items rather than event objects, so that a reader costs one
 * await and a few allocations per slice, not per token.
 */
export interface LogSlice {
  /** The status event, when the read started before it. */
  status?: StatusEvent;
  /** The cursor before `items[0]` (after the status event, if any). */
  from: LogCursor;
  items: LogItem[];
  /** The terminal event, once the reader has every item. */
  terminal?: TerminalEvent;
}

export interface ReadOptions {
  /**
   * Asked each time the reader has caught up: a promise to wait for (a clock's next tick)
   * before taking everything that came meanwhile, instead of being woken by every append;
   * undefined waits for the next append. The log's end still wakes a paced reader at once.
   * A log may ignore it (Redis's reads do): it only makes a reader's wakes coarser, never
   * changes what it reads.
   */
  pace?: () => Promise<void> | undefined;
}

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
  /** Where the log is now: after its last item, or after its terminal event once it has one. */
  cursor: LogCursor;
  /** Set once the stream has ended. */
  terminal: TerminalEvent | undefined;
}

/**
 * MemoryEventLog now; a Redis one (cluster issue) implements the same contract,
 * run by the same suite (test/streams/eventLog.contract.test.ts):
 * - one appender per stream, holding the stream's fence; readers never write;
 * - a reader gets every event after its cursor exactly once, in stream order, then
 *   the terminal event, then its iteration ends, however reads and appends interleave;
 * - readers pull at their own pace: an append never waits for a reader;
 * - a log is kept until `retentionMs` after its terminal event; then it is gone
 *   (`info` is undefined, `read` yields nothing): "gone", never a hang.
 */
export interface StreamEventLog {
  /** Opens the log of the stream that `status` names (the first event of every stream). */
  create(status: StatusEvent, owner: string, fence: bigint): Awaitable<void>;
  append(streamId: string, item: LogItem, fence: bigint): Awaitable<AppendResult>;
  /** Writes the terminal event once; false when the log had already ended, is gone or is fenced. */
  finish(streamId: string, event: TerminalEvent, fence: bigint): Awaitable<boolean>;
  info(streamId: string): Promise<StreamLogInfo | undefined>;
  /**
   * The events after `after`, then the live tail up to and including the terminal
   * event, in slices (all that is there, bounded). Ends after the terminal event,
   * or early when `signal` aborts or the log is gone.
   */
  read(streamId: string, after: LogCursor, signal: AbortSignal, options?: ReadOptions): AsyncIterable<LogSlice>;
  /**
   * Optional: this process is about to start `streamId` and will `create` its log (the cluster
   * first takes the session in Redis): a read that comes meanwhile waits for that log, or for
   * `until` (the stream ended without one), instead of reading another copy of it.
   */
  expect?(streamId: string, until: Promise<unknown>): void;
  close(): Promise<void>;
}
