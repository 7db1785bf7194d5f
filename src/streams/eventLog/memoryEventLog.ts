import type { StatusEvent, TerminalEvent } from '../../shared/events.js';
import { FairBudget, type OwnerAccount } from './fairBudget.js';
import { compareCursors, itemChars, type AppendResult, type LogCursor, type LogItem, type LogSlice, type ReadOptions, type StreamEventLog, type StreamLogInfo } from './types.js';

export interface MemoryEventLogOptions {
  /** How long a log stays readable after its terminal event (JARVIS_STREAM_RETENTION_MS). */
  retentionMs: number;
  /** Text bound per stream: an append past it gets 'full'. */
  maxCharsPerStream?: number;
  /** Ended logs kept at most; past it the oldest ended ones go before their time. */
  maxEndedLogs?: number;
  /**
   * Text bound over all logs, shared fairly between keys (see FairBudget): past it
   * ended logs go, the heaviest key's oldest first, then appends get 'full', the
   * appends of keys over their share first.
   */
  maxTotalChars?: number;
  /** A key's guaranteed part of maxTotalChars; 0 or absent: maxTotalChars over the keys holding logs. */
  keyShareChars?: number;
}

/** Items handed to a reader per slice at most: a long backlog goes out in slices, each with its back-pressure. */
const MAX_SLICE = 1024;

class Entry {
  /** In stream order; append-only, never trimmed while the entry exists (packed once the stream ends, see `pack`). */
  private items: LogItem[] = [];
  /**
   * Token seq → its index in `items`; only once a non-token item is logged:
   * until then (most answers: tokens only) a token's index is its seq.
   */
  private tokenAt: number[] | undefined;
  /** An ended answer of tokens only, packed: all its text in one string, and where each token ends. */
  private packed: { text: string; ends: Uint32Array } | undefined;
  private count = 0;
  /** Tokens logged. */
  tokens = 0;
  /** Non-token items since the last token (the `extra` of the current cursor). */
  extra = 0;
  chars = 0;
  terminal: TerminalEvent | undefined;
  expiry: NodeJS.Timeout | undefined;
  /** Dropped from the log (expired, evicted, closed): readers finish what they hold. */
  gone = false;
  /** Readers waiting for more; each is woken once, then registers again. Made for the first reader: most streams have none but their response. */
  waiters: Set<() => void> | undefined;
  /** Paced readers waiting for their pace: not woken by appends, only by the log's end or its going. */
  pacedWaiters: Set<() => void> | undefined;

  constructor(
    readonly status: StatusEvent,
    readonly owner: string,
    readonly fence: bigint,
    /** The owner's part of the text budget. */
    readonly account: OwnerAccount,
  ) {}

  /** Items logged. */
  get length(): number {
    return this.count;
  }

  push(item: LogItem): void {
    if (typeof item === 'string') {
      this.tokenAt?.push(this.count);
      this.tokens++;
      this.extra = 0;
    } else {
      this.tokenAt ??= Array.from({ length: this.tokens }, (_, seq) => seq);
      this.extra++;
    }
    this.items.push(item);
    this.count++;
  }

  /** Items `start` to `end` (exclusive), as they were logged. */
  slice(start: number, end: number): LogItem[] {
    const packed = this.packed;
    if (!packed) return this.items.slice(start, end);
    const out: string[] = [];
    const stop = Math.min(end, this.count);
    for (let i = start; i < stop; i++) out.push(packed.text.slice(i === 0 ? 0 : packed.ends[i - 1], packed.ends[i]));
    return out;
  }

  /**
   * Once the stream has ended its log only waits to be read again (a reattach, for
   * JARVIS_STREAM_RETENTION_MS): an answer of tokens only is packed into one string
   * and an offset per token (about 4 bytes a token besides its text, where an array
   * of token strings holds 30 or more), so the retained logs stay small.
   */
  pack(): void {
    if (this.tokenAt || this.count === 0) return;
    const tokens = this.items as string[];
    const ends = new Uint32Array(tokens.length);
    let at = 0;
    for (let i = 0; i < tokens.length; i++) ends[i] = at += tokens[i]!.length;
    this.packed = { text: tokens.join(''), ends };
    this.items = [];
  }

  wake(): void {
    const waiters = this.waiters;
    if (!waiters || waiters.size === 0) return;
    for (const waiter of waiters) waiter();
    waiters.clear();
  }

  /** The log ended or went: every reader is woken, paced ones too (an answer's final write must not wait for a tick). */
  wakeAll(): void {
    this.wake();
    const paced = this.pacedWaiters;
    if (!paced || paced.size === 0) return;
    for (const waiter of paced) waiter();
    paced.clear();
  }

  /** The cursor after everything logged so far (the terminal event included). */
  get cursor(): LogCursor {
    return { seq: this.tokens - 1, extra: this.extra + (this.terminal ? 1 : 0) };
  }

  /** The index in `items` of the first item after `c` (may be past the end, or not known yet: -1). */
  indexAfter(c: LogCursor): number {
    if (c.seq < -1) return 0;
    if (c.seq >= this.tokens) return -1;
    return (c.seq === -1 ? 0 : (this.tokenAt ? (this.tokenAt[c.seq] as number) : c.seq) + 1) + c.extra;
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
  private readonly maxChars: number;
  private readonly maxEnded: number;
  /** The text bound over all logs, per key (each key's ended logs are listed there, oldest first). */
  readonly budget: FairBudget;

  constructor(private readonly options: MemoryEventLogOptions) {
    this.maxChars = options.maxCharsPerStream ?? 8 * 1024 * 1024;
    this.maxEnded = options.maxEndedLogs ?? 10_000;
    this.budget = new FairBudget(options.maxTotalChars ?? 256 * 1024 * 1024, options.keyShareChars ?? 0);
  }

  /** Logs held (live and retained). */
  get size(): number {
    return this.entries.size;
  }

  create(status: StatusEvent, owner: string, fence: bigint): void {
    if (this.entries.has(status.stream_id)) return;
    this.entries.set(status.stream_id, new Entry(status, owner, fence, this.budget.open(owner)));
  }

  append(streamId: string, item: LogItem, fence: bigint): AppendResult {
    const entry = this.entries.get(streamId);
    if (!entry || entry.terminal) return 'stopped';
    if (entry.fence !== fence) return 'fenced';
    const chars = itemChars(item);
    if (entry.chars + chars > this.maxChars) return 'full';
    if (!this.budget.fits(entry.account, chars) && !this.evictFor(entry.account, chars)) return 'full';
    entry.chars += chars;
    this.budget.charge(entry.account, chars);
    entry.push(item);
    entry.wake();
    return 'ok';
  }

  finish(streamId: string, event: TerminalEvent, fence: bigint): boolean {
    const entry = this.entries.get(streamId);
    if (!entry || entry.terminal || entry.fence !== fence) return false;
    entry.terminal = event;
    entry.pack();
    entry.wakeAll();
    entry.expiry = setTimeout(() => this.drop(streamId), this.options.retentionMs);
    entry.expiry.unref();
    this.budget.ended(entry.account, streamId);
    if (this.budget.endedCount > this.maxEnded) this.dropOldestOf(this.budget.mostEnded());
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
      tokens: entry.tokens,
      cursor: entry.cursor,
      terminal: entry.terminal,
    };
  }

  async *read(streamId: string, after: LogCursor, signal: AbortSignal, options?: ReadOptions): AsyncGenerator<LogSlice> {
    // The entry is held for the whole read: one that expires meanwhile still ends cleanly.
    const entry = this.entries.get(streamId);
    if (!entry) return;
    let cursor = after;
    let withStatus = after.seq < -1;
    if (withStatus) cursor = { seq: -1, extra: 0 };
    // One abort listener for the whole read, not one per wait: a reader of a stream at a
    // model's pace waits once a token, and adding and removing a listener each time cost
    // more than the rest of its wait.
    let waiting: (() => void) | undefined;
    // Read from here, not from `signal.aborted` at every step (Node checks the receiver's brand each time).
    let aborted = signal.aborted;
    const onAbort = () => {
      aborted = true;
      if (!waiting) return;
      entry.waiters?.delete(waiting);
      entry.pacedWaiters?.delete(waiting);
      waiting();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!aborted) {
        // A cursor ahead of the log (a token not logged yet) waits for it.
        const start = entry.indexAfter(cursor);
        const from = cursor;
        const items = start >= 0 && start < entry.length ? entry.slice(start, start + MAX_SLICE) : NO_ITEMS;
        if (items.length > 0) cursor = cursorAfter(cursor, items);
        const status = withStatus ? entry.status : undefined;
        withStatus = false;
        const caughtUp = start >= 0 && start + items.length >= entry.length;
        if (entry.terminal && (caughtUp || compareCursors(cursor, entry.cursor) >= 0)) {
          // The terminal event's cursor is the log's end; a reader at or past it has it already.
          const terminal = compareCursors(cursor, entry.cursor) < 0 ? entry.terminal : undefined;
          if (status || items.length > 0 || terminal) yield sliceOf(from, items, status, terminal);
          return;
        }
        // Nothing new: no slice is made (a reader waits once a token, or once a tick).
        if (status || items.length > 0) {
          yield sliceOf(from, items, status, undefined);
          continue;
        }
        if (entry.gone) return;
        const paced = options?.pace?.();
        await new Promise<void>((resolve) => {
          waiting = resolve;
          // Paced: woken by the pace, the log's end or an abort, then takes all that came; else by the next append.
          if (paced) {
            paced.then(resolve, resolve);
            (entry.pacedWaiters ??= new Set()).add(resolve);
          } else (entry.waiters ??= new Set()).add(resolve);
        });
        if (paced) entry.pacedWaiters?.delete(waiting!);
        waiting = undefined;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (waiting) {
        entry.waiters?.delete(waiting);
        entry.pacedWaiters?.delete(waiting);
      }
    }
  }

  async close(): Promise<void> {
    for (const id of [...this.entries.keys()]) this.drop(id);
  }

  /**
   * Drops ended logs until `chars` more of `account` fit: the oldest of the key
   * holding the most text first, of the keys over their share and `account` itself;
   * false if they cannot be made to fit (the append gets 'full').
   */
  private evictFor(account: OwnerAccount, chars: number): boolean {
    while (!this.budget.fits(account, chars)) {
      if (!this.dropOldestOf(this.budget.victim(account))) return false;
    }
    return true;
  }

  private dropOldestOf(account: OwnerAccount | undefined): boolean {
    const oldest = account?.ended.values().next().value;
    if (oldest === undefined) return false;
    this.drop(oldest);
    return true;
  }

  private drop(streamId: string): void {
    const entry = this.entries.get(streamId);
    if (!entry) return;
    clearTimeout(entry.expiry);
    this.budget.close(entry.account, streamId, entry.chars);
    entry.gone = true;
    entry.wakeAll();
    this.entries.delete(streamId);
  }
}

const NO_ITEMS: LogItem[] = [];

/** The cursor after `items` for a reader at `c` (one object, not one per item). */
function cursorAfter(c: LogCursor, items: readonly LogItem[]): LogCursor {
  let seq = c.seq;
  let extra = c.extra;
  for (let i = 0; i < items.length; i++) {
    if (typeof items[i] === 'string') {
      seq++;
      extra = 0;
    } else extra++;
  }
  return { seq, extra };
}

function sliceOf(from: LogCursor, items: LogItem[], status: StatusEvent | undefined, terminal: TerminalEvent | undefined): LogSlice {
  const slice: LogSlice = { from, items };
  if (status) slice.status = status;
  if (terminal) slice.terminal = terminal;
  return slice;
}
