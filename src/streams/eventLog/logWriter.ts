import type { StatusEvent, TerminalEvent, ToolCall } from '../../shared/events.js';
import type { ChoiceDelta, TokenLogprob } from '../../shared/logprobs.js';
import type { EventWriter } from '../eventWriter.js';
import type { AppendResult, Awaitable, LogItem, StreamEventLog } from './types.js';

export interface LogWriterOptions {
  owner: string;
  fence: bigint;
  /**
   * The response that started the stream, when it reads the stream directly
   * (`/v1/chat/completions`): its back-pressure is the stream's, and its
   * closing stops the stream (docs/api.md). Absent for the conversations
   * API, whose responses are log readers with their own back-pressure.
   */
  primary?: EventWriter;
}

/**
 * The stream's one appender: each event goes into the log first, then to the
 * primary writer if there is one. Log readers are woken by the log; none of
 * them can slow the producer down.
 */
export class LogWriter implements EventWriter {
  private streamId = '';
  /**
   * Called once when the log refuses a token (fenced, stopped, or full with no
   * primary reader): the stream's owner ends it.
   */
  onRefused: ((result: Exclude<AppendResult, 'ok'>) => void) | undefined;
  private refused = false;
  /** The log filled up under a primary reader: the stream goes on, the log cannot replay it whole. */
  private truncatedAt: number | undefined;

  constructor(
    private readonly log: StreamEventLog,
    private readonly options: LogWriterOptions,
  ) {}

  status(event: StatusEvent): void {
    // A later status (`loading_model`) goes to the primary reader only: the log opens once, with the first.
    if (this.streamId !== '') return this.options.primary?.status(event);
    this.streamId = event.stream_id;
    settle(this.log.create(event, this.options.owner, this.options.fence), () => {});
    this.options.primary?.status(event);
  }

  token(text: string, seq: number, logprobs?: TokenLogprob[]): boolean {
    if (logprobs === undefined) {
      this.log_(text, seq);
      return this.options.primary ? this.options.primary.token(text, seq) : true;
    }
    // Just before the token they score, so a reader meets them first and writes them with it.
    this.log_({ kind: 'logprobs', seq, content: logprobs }, this.tokensSeen);
    this.log_(text, seq);
    return this.options.primary ? this.options.primary.token(text, seq, logprobs) : true;
  }

  choice(delta: ChoiceDelta): boolean {
    this.log_({ kind: 'choice', delta }, this.tokensSeen);
    return this.options.primary?.choice ? this.options.primary.choice(delta) : true;
  }

  reasoning(text: string, seq: number): boolean {
    this.log_({ kind: 'reasoning', text, seq }, this.tokensSeen);
    return this.options.primary ? this.options.primary.reasoning(text, seq) : true;
  }

  toolCall(call: ToolCall, index: number): boolean {
    this.log_({ kind: 'tool_call', call, index }, this.tokensSeen);
    return this.options.primary ? this.options.primary.toolCall(call, index) : true;
  }

  terminal(event: TerminalEvent): void {
    // A log reader must never take a truncated answer for a whole one: it gets an error instead.
    const logged: TerminalEvent =
      this.truncatedAt === undefined
        ? event
        : {
            type: 'error',
            code: 'internal_error',
            message: `the answer outgrew the stream's event log after ${this.truncatedAt} tokens; only its first response has it all`,
            stream_id: event.stream_id,
            session_id: event.session_id,
          };
    settle(this.log.finish(this.streamId, logged, this.options.fence), () => {});
    this.options.primary?.terminal(event);
  }

  /** The primary's own cap (a `stream: false` reply at its size limit): the stream ends it as `length`. */
  get full(): boolean {
    return this.options.primary?.full === true;
  }

  drained(signal: AbortSignal): Promise<void> {
    return this.options.primary ? this.options.primary.drained(signal) : Promise.resolve();
  }

  private tokensSeen = 0;

  /** Appends one item (the per-token path: no promise unless the log is remote). */
  private log_(item: LogItem, seq: number): void {
    if (typeof item === 'string') this.tokensSeen = seq + 1;
    if (this.refused) return;
    const result = this.log.append(this.streamId, item, this.options.fence);
    if (result !== 'ok') settle(result, (r) => this.refuse(r, seq));
  }

  private refuse(result: AppendResult, seq: number): void {
    if (result === 'ok' || this.refused) return;
    this.refused = true;
    if (result === 'full' && this.options.primary) this.truncatedAt = seq;
    else this.onRefused?.(result);
  }
}

/** Runs `then` on a value now, or on a promise once it settles (a failed remote write counts as 'stopped'). */
function settle<T>(value: Awaitable<T>, then: (v: T | 'stopped') => void): void {
  if (value instanceof Promise) value.then(then, () => then('stopped'));
  else then(value);
}
