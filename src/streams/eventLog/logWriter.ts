import type { StatusEvent, TerminalEvent } from '../../shared/events.js';
import type { EventWriter } from '../eventWriter.js';
import type { AppendResult, Awaitable, StreamEventLog } from './types.js';

export interface LogWriterOptions {
  owner: string;
  fence: bigint;
  /**
   * The response that started the stream, when it reads the stream directly
   * (`/v1/chat/completions`): its back-pressure is the stream's, and its
   * closing stops the stream (the runbook's rule). Absent for the conversations
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
  /** Called once when the log refuses a token (fenced, stopped, full): the stream's owner ends it. */
  onRefused: ((result: Exclude<AppendResult, 'ok'>) => void) | undefined;
  private refused = false;

  constructor(
    private readonly log: StreamEventLog,
    private readonly options: LogWriterOptions,
  ) {}

  status(event: StatusEvent): void {
    this.streamId = event.stream_id;
    settle(this.log.create(event, this.options.owner, this.options.fence), () => {});
    this.options.primary?.status(event);
  }

  token(text: string, seq: number): boolean {
    if (!this.refused) {
      const result = this.log.append(this.streamId, seq, text, this.options.fence);
      if (result !== 'ok') settle(result, (r) => this.refuse(r));
    }
    return this.options.primary ? this.options.primary.token(text, seq) : true;
  }

  terminal(event: TerminalEvent): void {
    settle(this.log.finish(this.streamId, event, this.options.fence), () => {});
    this.options.primary?.terminal(event);
  }

  drained(signal: AbortSignal): Promise<void> {
    return this.options.primary ? this.options.primary.drained(signal) : Promise.resolve();
  }

  private refuse(result: AppendResult): void {
    if (result === 'ok' || this.refused) return;
    this.refused = true;
    this.onRefused?.(result);
  }
}

/** Runs `then` on a value now, or on a promise once it settles (a failed remote write counts as 'stopped'). */
function settle<T>(value: Awaitable<T>, then: (v: T | 'stopped') => void): void {
  if (value instanceof Promise) value.then(then, () => then('stopped'));
  else then(value);
}
