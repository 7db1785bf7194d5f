import type { TerminalEvent } from '../../shared/events.js';
import type { SystemLog } from '../../log/systemLog.js';
import { formatCursor, FROM_START, type StreamEventLog } from '../../streams/eventLog/types.js';
import type { ToolCall } from '../../shared/events.js';
import { sleep } from '../../shared/sleep.js';
import type { StoreHealth } from '../faults/health.js';
import { FlushBatch, FlushTicker } from './flushBatch.js';
import { StoreError, type AnswerState, type AnswerTimings, type AnswerUpdate, type ConversationStore } from '../types.js';

/** An answer in the database is at most this far behind its stream. */
export const FLUSH_INTERVAL_MS = 250;
/** Reads of an answer's log that ended short, at most (see `follow`), and the pause before each again. */
const READ_PASSES = 3;
const REREAD_PAUSE_MS = 200;
/** The longest pause between two tries of an answer's final write while the store is down. */
export const FINAL_RETRY_MAX_MS = 30_000;

export interface RecordedAnswer {
  owner: string;
  conversationId: string;
  messageId: string;
  streamId: string;
  fence: bigint;
  /** `performance.now()` when the stream started, for the timings. */
  startedMs: number;
  /** Finished by the sweep from the log of an ended stream: its timings are unknown. */
  recovered?: boolean;
}

export interface RecorderOptions {
  flushMs?: number;
  /** How long an answer's final write is tried again while the store is down (JARVIS_STORE_RETRY_MS). */
  retryMs?: number;
  /** Wakes a final write that waits for the store as soon as the store answers again. */
  health?: StoreHealth;
}

/**
 * Stores answers as they grow. Each answer is one more reader of its stream's
 * event log, so what is stored is exactly what every reader got: the text up to a
 * seq, written at most every FLUSH_INTERVAL_MS (never per token), then once more
 * with how the stream ended. Each write after the first appends only the text that
 * came since the previous one (rewriting the whole text at every flush made a long
 * answer's cost grow with the square of its length). Writes of one answer never
 * overlap; a slow database makes them coarser, never queued up. The writes while
 * answers stream run on one clock and go out together (flushBatch.ts).
 */
export class AnswerRecorder {
  private readonly running = new Set<Promise<void>>();
  /** The messages being recorded (or whose final write waits for the store), and their streams: the sweeps leave them. */
  private readonly messages = new Set<string>();
  private readonly streams = new Set<string>();
  private readonly closing = new AbortController();
  private readonly retryMs: number;
  /** Every answer's periodic write on one clock, and those due together written together. */
  private readonly ticker: FlushTicker;
  private readonly batch: FlushBatch;
  /** Called once an answer's final state is stored. */
  onEnded: ((answer: RecordedAnswer, state: AnswerState) => void) | undefined;

  constructor(
    private readonly store: ConversationStore,
    private readonly events: StreamEventLog,
    private readonly log: SystemLog,
    private readonly options: RecorderOptions = {},
  ) {
    this.ticker = new FlushTicker(options.flushMs ?? FLUSH_INTERVAL_MS);
    this.batch = new FlushBatch(store);
    this.retryMs = options.retryMs ?? 10 * 60_000;
  }

  /** Answers still being recorded. */
  get active(): number {
    return this.running.size;
  }

  /** Whether this message is being recorded (its stream runs, or its final write waits for the store). */
  has(messageId: string): boolean {
    return this.messages.has(messageId);
  }

  /** Whether an answer on this stream is being recorded here. */
  follows(streamId: string): boolean {
    return this.streams.has(streamId);
  }

  record(answer: RecordedAnswer): void {
    if (this.messages.has(answer.messageId)) return;
    this.messages.add(answer.messageId);
    this.streams.add(answer.streamId);
    const run = this.follow(answer).catch((err: unknown) => {
      this.log.error('answer_record_failed', { message: answer.messageId, stream_id: answer.streamId, error: err instanceof Error ? err.message : String(err) });
    });
    this.running.add(run);
    void run.finally(() => {
      this.running.delete(run);
      this.messages.delete(answer.messageId);
      this.streams.delete(answer.streamId);
    });
  }

  /** Shutdown, once the store is about to close: final writes still waiting for it give up (the next start-up sweeps them). */
  close(): void {
    this.closing.abort();
  }

  /** Resolves once every answer being recorded has had its final write (shutdown waits on it). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async follow(answer: RecordedAnswer): Promise<void> {
    // The whole answer (for a write that must rewrite it), and what came since the last write.
    let content = '';
    let reasoning = '';
    let newContent = '';
    let newReasoning = '';
    const toolCalls: ToolCall[] = [];
    let seq = -1;
    let extra = 0;
    let at = '-1';
    let flushedAt = '-1';
    /** Where the stored answer ends, as this recorder wrote it: appends continue from here. */
    let storedAt: string | undefined;
    let firstTokenMs: number | undefined;
    let writing: Promise<unknown> | undefined;
    let gone = false;

    const write = async (state: AnswerState, options: Partial<{ terminal: TerminalEvent }> = {}) => {
      const terminal = options.terminal;
      const common = {
        seq,
        cursor: at,
        toolCalls: toolCalls.length > 0 ? [...toolCalls] : undefined,
        state,
        usage: terminal?.type === 'done' ? terminal.usage : undefined,
        timings: terminal && !answer.recovered
          ? ({ ttft_ms: firstTokenMs === undefined ? undefined : Math.round(firstTokenMs), duration_ms: Math.round(performance.now() - answer.startedMs) } satisfies AnswerTimings)
          : undefined,
        error: terminal?.type === 'error' ? { code: terminal.code, message: terminal.message } : undefined,
      };
      const whole = { ...common, content, reasoning: reasoning === '' ? undefined : reasoning };
      const added = { content: newContent, reasoning: newReasoning };
      newContent = '';
      newReasoning = '';
      // A write while the answer streams goes with the other answers due at this tick; the final one on its own.
      const put = (update: AnswerUpdate): Promise<boolean> =>
        state === 'streaming'
          ? this.batch.write({ messageId: answer.messageId, fence: answer.fence, content: update.content, reasoning: update.reasoning, appendAfter: update.appendAfter, seq: common.seq, cursor: common.cursor, toolCalls: common.toolCalls })
          : this.store.updateAnswer(answer.messageId, answer.fence, update);
      try {
        let stored = storedAt === undefined ? await put(whole) : await put({ ...common, content: added.content, reasoning: added.reasoning || undefined, appendAfter: storedAt });
        // Not where this recorder left it (a write that failed had in fact committed), or gone: the whole text settles which.
        if (!stored && storedAt !== undefined) stored = await put(whole);
        flushedAt = common.cursor;
        storedAt = common.cursor;
        // Deleted (conversation deleted, message edited away), fenced or ended by someone else.
        if (!stored) gone = true;
        return true;
      } catch (err) {
        // Whether it committed is unknown: the next write appends this again, after where the last known write ended.
        newContent = added.content + newContent;
        newReasoning = added.reasoning + newReasoning;
        // A store that is down is logged once per episode (StoreHealth), not once per answer and flush.
        if (!(err instanceof StoreError && err.code === 'unavailable')) {
          this.log.warn('answer_flush_failed', { message: answer.messageId, stream_id: answer.streamId, state, seq: common.seq, error: err instanceof Error ? err.message : String(err) });
        }
        return false;
      }
    };
    const flush = () => {
      if (writing || gone || at === flushedAt) return;
      writing = write('streaming').finally(() => {
        writing = undefined;
        // Tokens that came during the write are due at the next tick (a paced reader writes them after its read there).
        if (at !== flushedAt && !gone && !pacing()) this.ticker.request(flush);
      });
    };

    const reading = new AbortController();
    let terminal: TerminalEvent | undefined;
    // Once its first token is in (its time is one of the answer's timings), an answer is read
    // once a tick: it writes once a tick, so one wake a tick, not one a token; the log's end
    // wakes it at once (docs/architecture.md, "How an answer outlives its connection").
    const ticks = new TickPace(this.ticker);
    const pacing = () => firstTokenMs !== undefined;
    /** The read waits for a tick; what it hands over next was read there. */
    let readAtTick = false;
    const pace = (): Promise<void> | undefined => {
      if (!pacing()) return undefined;
      // The last tick brought nothing new: what was read before it (a write that was still running then) is written now.
      if (readAtTick) flush();
      readAtTick = true;
      return ticks.next();
    };
    try {
      // The owner records its own answer, from its own log, which has every token. A read that
      // ends short (a log that vanished with Redis) or with a reader's own loss (`answer_log_lost`
      // is no outcome of the stream) is read again from where it stopped while the log is there:
      // a truncated `error` must never be stored over what the stream itself did.
      for (let pass = 0; pass < READ_PASSES && !gone; pass++) {
        if (pass > 0) {
          if (!(await this.events.info(answer.streamId))) break;
          await sleep(REREAD_PAUSE_MS);
        }
        const from = pass === 0 ? FROM_START : { seq, extra };
        for await (const slice of this.events.read(answer.streamId, from, reading.signal, { pace })) {
          if (slice.items.length > 0) {
            firstTokenMs ??= performance.now() - answer.startedMs;
            for (const item of slice.items) {
              if (typeof item === 'string') {
                content += item;
                newContent += item;
                seq++;
                extra = 0;
              } else {
                if (item.kind === 'reasoning') {
                  reasoning += item.text;
                  newReasoning += item.text;
                } else if (item.kind === 'tool_call') toolCalls.push(item.call);
                extra++;
              }
            }
            at = formatCursor({ seq, extra });
          }
          terminal = slice.terminal?.type === 'error' && slice.terminal.code === 'answer_log_lost' ? undefined : slice.terminal;
          if (gone) break;
          if (terminal) continue;
          // Read at a tick: written at once, with the other answers read at this tick. Read as it
          // came: written at the next tick, after that tick's read when the reader is paced.
          if (readAtTick) flush();
          else if (at !== flushedAt && !pacing()) this.ticker.request(flush);
          readAtTick = false;
        }
        if (terminal) break;
      }
    } finally {
      reading.abort();
      ticks.stop();
      this.ticker.cancel(flush);
      await writing;
    }
    if (gone) return;
    if (!terminal) {
      // The log went away before the stream ended (it cannot while the stream lives).
      // A conversation's answers stream on session = the conversation's id.
      this.log.error('answer_log_lost', { message: answer.messageId, stream_id: answer.streamId, session: answer.conversationId, seq });
      await write('error', { terminal: { type: 'error', code: 'internal_error', message: 'the answer stream was lost', stream_id: answer.streamId, session_id: answer.conversationId } });
      return;
    }
    // The final write matters most (else the answer shows as streaming): it is tried
    // again, with growing pauses, through a store outage of up to retryMs. One such
    // write per answer is held, with the answer's latest text; the stream's readers
    // never wait on it.
    const state = stateOf(terminal);
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      if (await write(state, { terminal })) {
        if (!gone) this.onEnded?.(answer, state);
        return;
      }
      const waited = Date.now() - started;
      if (this.closing.signal.aborted || waited >= this.retryMs) {
        this.log.error('answer_store_gave_up', { message: answer.messageId, stream_id: answer.streamId, state, tries: attempt + 1, waited_ms: waited, why: this.closing.signal.aborted ? 'shutdown' : 'JARVIS_STORE_RETRY_MS reached' });
        return;
      }
      await this.pause(Math.min(retryPause(attempt), this.retryMs - waited));
    }
  }

  /** Waits `ms`, or less: until the store answers again, or shutdown. */
  private async pause(ms: number): Promise<void> {
    const recovered = new AbortController();
    if (this.options.health?.down) void this.options.health.recovered().then(() => recovered.abort());
    await sleep(ms, AbortSignal.any([this.closing.signal, recovered.signal]));
  }
}

/** One answer's reader, woken by the shared clock's next tick (the log's end wakes it at once itself). */
class TickPace {
  private wake: (() => void) | undefined;

  constructor(private readonly ticker: FlushTicker) {}

  next(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.stop();
        resolve();
      };
      this.ticker.request(this.wake);
    });
  }

  /** No tick is asked for on its behalf any more. */
  stop(): void {
    if (!this.wake) return;
    this.ticker.cancel(this.wake);
    this.wake = undefined;
  }
}

/** 250 ms, 500 ms, 1 s… up to FINAL_RETRY_MAX_MS, give or take a fifth (answers that failed together do not retry together). */
export function retryPause(attempt: number): number {
  const base = 250 * 2 ** Math.min(attempt, 16);
  return Math.round(Math.min(FINAL_RETRY_MAX_MS, base * (0.8 + Math.random() * 0.4)));
}

export function stateOf(event: TerminalEvent): AnswerState {
  switch (event.type) {
    case 'done':
      return 'done';
    case 'error':
      return 'error';
    case 'cancelled':
      return event.reason === 'superseded' ? 'superseded' : event.reason === 'shutdown' ? 'shutdown' : 'stopped';
  }
}
