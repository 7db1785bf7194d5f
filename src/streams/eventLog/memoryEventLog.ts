import type { StatusEvent, TerminalEvent } from '../../shared/events.js';
import { FROM_START, type AppendResult, type LogSlice, type StreamEventLog, type StreamLogInfo } from './types.js';

export interface MemoryEventLogOptions {
  /** How long a log stays readable after its terminal event (JARVIS_STREAM_RETENTION_MS). */
  retentionMs: number;
  /** Text bound per stream: an append past it gets 'full' (the stream ends as `length`). */
  maxCharsPerStream?: number;
  /** Ended logs kept at most; past it the oldest ended ones go before their time. */
  maxEndedLogs?: number;
  /** Text bound over all logs: past it the oldest ended logs go first, then appends get 'full'. */
  maxTotalChars?: number;
}

/** Tokens handed to a reader per slice at most: a long backlog goes out in slices, each with its back-pressure. */
const MAX_SLICE = 1024;

class Entry {
  /** Token texts; index = seq. Append-only: never trimmed while the entry exists. */
  readonly tokens: string[] = [];
  chars = 0;
  terminal: TerminalEvent | undefined;
  expiry: NodeJS.Timeout | undefined;
  /** Dropped from the log (expired, evicted, closed): readers finish what they hold. */
  gone = false;
  /** Readers waiting for more; each is woken once, then registers again. */
  readonly waiters = new Set<() => void>();

  constructor(
    readonly status: StatusEvent,
    readonly owner: string,
    readonly fence: bigint,
  ) {}

  wake(): void {
    if (this.waiters.size === 0) return;
    for (const waiter of this.waiters) waiter();
    this.waiters.clear();
  }
}

/**
 * The per-stream event log of one process. A read checks what is there and, when
 * it has caught up, registers as a waiter in the same synchronous step: no append
 * can fall between the two, so there is no catch-up/live boundary to race.
 * Readers keep only a position, and the log is never trimmed under them.
 */
export class MemoryEventLog implements StreamEventLog {
  private readonly entries = new Map<string, Entry>();
  /** Ended entries in the order they ended, for the count bound. */
  private readonly ended = new Set<string>();
  private readonly maxChars: number;
  private readonly maxEnded: number;
  private readonly maxTotal: number;
  private totalChars = 0;

  constructor(private readonly options: MemoryEventLogOptions) {
    this.maxChars = options.maxCharsPerStream ?? 8 * 1024 * 1024;
    this.maxEnded = options.maxEndedLogs ?? 10_000;
    this.maxTotal = options.maxTotalChars ?? 256 * 1024 * 1024;
  }

  /** Logs held (live and retained), for /health-style figures and tests. */
  get size(): number {
    return this.entries.size;
  }

  create(status: StatusEvent, owner: string, fence: bigint): void {
    if (this.entries.has(status.stream_id)) return;
    this.entries.set(status.stream_id, new Entry(status, owner, fence));
  }

  append(streamId: string, seq: number, text: string, fence: bigint): AppendResult {
    const entry = this.entries.get(streamId);
    if (!entry || entry.terminal) return 'stopped';
    if (entry.fence !== fence) return 'fenced';
    if (seq !== entry.tokens.length) throw new Error(`stream ${streamId}: token seq ${seq} appended at position ${entry.tokens.length}`);
    if (entry.chars + text.length > this.maxChars) return 'full';
    if (this.totalChars + text.length > this.maxTotal && !this.evictEnded(text.length)) return 'full';
    entry.chars += text.length;
    this.totalChars += text.length;
    entry.tokens.push(text);
    entry.wake();
    return 'ok';
  }

  finish(streamId: string, event: TerminalEvent, fence: bigint): boolean {
    const entry = this.entries.get(streamId);
    if (!entry || entry.terminal || entry.fence !== fence) return false;
    entry.terminal = event;
    entry.wake();
    entry.expiry = setTimeout(() => this.drop(streamId), this.options.retentionMs);
    entry.expiry.unref();
    this.ended.add(streamId);
    if (this.ended.size > this.maxEnded) this.dropOldestEnded();
    return true;
  }

  async info(streamId: string): Promise<StreamLogInfo | undefined> {
    const entry = this.entries.get(streamId);
    if (!entry) return undefined;
    return {
      streamId,
      sessionId: entry.status.session_id,
      owner: entry.owner,
      model: entry.status.model,
      tokens: entry.tokens.length,
      terminal: entry.terminal,
    };
  }

  async *read(streamId: string, after: number, signal: AbortSignal): AsyncGenerator<LogSlice> {
    // The entry is held for the whole read: one that expires meanwhile still ends cleanly.
    const entry = this.entries.get(streamId);
    if (!entry) return;
    let last = Math.max(after, FROM_START);
    while (!signal.aborted) {
      const from = last + 1;
      const slice: LogSlice = { from: Math.max(from, 0), texts: [] };
      if (last < -1) slice.status = entry.status;
      const end = Math.min(entry.tokens.length, slice.from + MAX_SLICE);
      if (end > slice.from) slice.texts = entry.tokens.slice(slice.from, end);
      last = Math.max(last, slice.from + slice.texts.length - 1);
      const terminalAt = entry.tokens.length;
      if (entry.terminal && last + 1 >= terminalAt) {
        if (last < terminalAt) slice.terminal = entry.terminal;
        if (slice.status || slice.texts.length > 0 || slice.terminal) yield slice;
        return;
      }
      if (slice.status || slice.texts.length > 0) {
        yield slice;
        continue;
      }
      if (entry.gone) return;
      await waitForMore(entry, signal);
    }
  }

  async close(): Promise<void> {
    for (const id of [...this.entries.keys()]) this.drop(id);
  }

  /** Drops ended logs, oldest first, until `chars` more fit; false if they cannot. */
  private evictEnded(chars: number): boolean {
    while (this.totalChars + chars > this.maxTotal) {
      if (!this.dropOldestEnded()) return false;
    }
    return true;
  }

  private dropOldestEnded(): boolean {
    const oldest = this.ended.values().next().value;
    if (oldest === undefined) return false;
    this.drop(oldest);
    return true;
  }

  private drop(streamId: string): void {
    const entry = this.entries.get(streamId);
    if (!entry) return;
    clearTimeout(entry.expiry);
    this.totalChars -= entry.chars;
    entry.gone = true;
    entry.wake();
    this.entries.delete(streamId);
    this.ended.delete(streamId);
  }
}

function waitForMore(entry: Entry, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      entry.waiters.delete(done);
      resolve();
    };
    entry.waiters.add(done);
    signal.addEventListener('abort', done, { once: true });
  });
}
