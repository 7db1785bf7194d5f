import type { TerminalEvent } from '../shared/events.js';
import type { SystemLog } from '../log/systemLog.js';
import { formatCursor, FROM_START, type LogCursor, type StreamEventLog } from '../streams/eventLog/types.js';
import type { ToolCall } from '../shared/events.js';
import type { AnswerState, AnswerTimings, ConversationStore } from './types.js';

/** An answer in the database is at most this far behind its stream. */
export const FLUSH_INTERVAL_MS = 250;

export interface RecordedAnswer {
  owner: string;
  conversationId: string;
  messageId: string;
  streamId: string;
  fence: bigint;
  /** `performance.now()` when the stream started, for the timings. */
  startedMs: number;
}

/**
 * Stores answers as they grow. Each answer is one more reader of its stream's
 * event log, so what is stored is exactly what every reader got: the text up to a
 * seq, written at most every FLUSH_INTERVAL_MS (never per token), then once more
 * with how the stream ended. Writes of one answer never overlap; a slow database
 * makes them coarser, never queued up.
 */
export class AnswerRecorder {
  private readonly running = new Set<Promise<void>>();
  /** Called once an answer's final state is stored. */
  onEnded: ((answer: RecordedAnswer, state: AnswerState) => void) | undefined;

  constructor(
    private readonly store: ConversationStore,
    private readonly events: StreamEventLog,
    private readonly log: SystemLog,
    private readonly flushMs = FLUSH_INTERVAL_MS,
  ) {}

  /** Answers still being recorded. */
  get active(): number {
    return this.running.size;
  }

  record(answer: RecordedAnswer): void {
    const run = this.follow(answer).catch((err: unknown) => {
      this.log.error('answer_record_failed', { message: answer.messageId, stream_id: answer.streamId, error: err instanceof Error ? err.message : String(err) });
    });
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  /** Resolves once every answer being recorded has had its final write (shutdown waits on it). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async follow(answer: RecordedAnswer): Promise<void> {
    let content = '';
    let reasoning = '';
    const toolCalls: ToolCall[] = [];
    let seq = -1;
    let cursor: LogCursor = { seq: -1, extra: 0 };
    let at = '-1';
    let flushedAt = '-1';
    let firstTokenMs: number | undefined;
    let writing: Promise<unknown> | undefined;
    let timer: NodeJS.Timeout | undefined;
    let gone = false;

    const write = async (state: AnswerState, extra: Partial<{ terminal: TerminalEvent }> = {}) => {
      const snapshot = { content, seq, cursor: at, reasoning: reasoning === '' ? undefined : reasoning, toolCalls: toolCalls.length > 0 ? [...toolCalls] : undefined };
      const terminal = extra.terminal;
      const timings: AnswerTimings | undefined = terminal
        ? { ttft_ms: firstTokenMs === undefined ? undefined : Math.round(firstTokenMs), duration_ms: Math.round(performance.now() - answer.startedMs) }
        : undefined;
      try {
        const stored = await this.store.updateAnswer(answer.messageId, answer.fence, {
          ...snapshot,
          state,
          usage: terminal?.type === 'done' ? terminal.usage : undefined,
          timings,
          error: terminal?.type === 'error' ? { code: terminal.code, message: terminal.message } : undefined,
        });
        flushedAt = snapshot.cursor;
        // Deleted (conversation deleted, message edited away), fenced or ended by someone else.
        if (!stored) gone = true;
        return true;
      } catch (err) {
        this.log.warn('answer_flush_failed', { message: answer.messageId, stream_id: answer.streamId, state, seq: snapshot.seq, error: err instanceof Error ? err.message : String(err) });
        return false;
      }
    };
    const flush = () => {
      timer = undefined;
      if (writing || gone || at === flushedAt) return;
      writing = write('streaming').finally(() => {
        writing = undefined;
        // Tokens that came during the write are due within the next interval.
        if (at !== flushedAt && !gone) timer ??= setTimeout(flush, this.flushMs);
      });
    };

    const reading = new AbortController();
    let terminal: TerminalEvent | undefined;
    try {
      for await (const slice of this.events.read(answer.streamId, FROM_START, reading.signal)) {
        if (slice.items.length > 0) {
          firstTokenMs ??= performance.now() - answer.startedMs;
          for (const item of slice.items) {
            if (typeof item === 'string') {
              content += item;
              cursor = { seq: cursor.seq + 1, extra: 0 };
            } else {
              if (item.kind === 'reasoning') reasoning += item.text;
              else toolCalls.push(item.call);
              cursor = { seq: cursor.seq, extra: cursor.extra + 1 };
            }
          }
          seq = cursor.seq;
          at = formatCursor(cursor);
        }
        terminal = slice.terminal;
        if (gone) break;
        if (!terminal && at !== flushedAt) timer ??= setTimeout(flush, this.flushMs);
      }
    } finally {
      reading.abort();
      clearTimeout(timer);
      await writing;
    }
    if (gone) return;
    if (!terminal) {
      // The log went away before the stream ended (it cannot while the stream lives).
      this.log.error('answer_log_lost', { message: answer.messageId, stream_id: answer.streamId, seq });
      await write('error', { terminal: { type: 'error', code: 'internal_error', message: 'the answer stream was lost', stream_id: answer.streamId, session_id: '' } });
      return;
    }
    // The final write matters most (else the answer shows as streaming until the
    // next start-up): a database hiccup gets two more tries.
    for (const pause of [0, 200, 1000]) {
      if (pause) await new Promise((resolve) => setTimeout(resolve, pause));
      if (await write(stateOf(terminal), { terminal })) {
        if (!gone) this.onEnded?.(answer, stateOf(terminal));
        return;
      }
    }
  }
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
