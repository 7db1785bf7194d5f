import { randomUUID } from 'node:crypto';
import type { CancelReason, ErrorCode, FinishReason, TerminalEvent, Usage } from '../shared/events.js';
import type { StreamObserver } from '../backends/observer.js';
import type { UpstreamCloseOutcome } from '../backends/upstreamHttp.js';
import type { SystemLog } from '../log/systemLog.js';
import type { EventWriter } from './eventWriter.js';

export type Outcome =
  | { kind: 'done'; reason: FinishReason; usage: Usage }
  | { kind: 'cancelled'; reason: CancelReason }
  | { kind: 'error'; code: ErrorCode; message: string };

/** waiting: for the stream it superseded · streaming: generating · closing: concluded, upstream being released · ended. */
export type StreamState = 'waiting' | 'streaming' | 'closing' | 'ended';

export function newStreamId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 16);
}

/**
 * One chat stream: its id, its one AbortController, its reader and its outcome.
 * `conclude` is the single place a stream's fate is decided: the first call wins,
 * writes the one terminal event and, unless the stream completed, aborts its upstream.
 */
export class ChatStream implements StreamObserver {
  readonly id: string;
  readonly controller = new AbortController();
  readonly createdAt = Date.now();
  readonly startedMs = performance.now();
  state: StreamState = 'waiting';
  tokens = 0;
  firstTokenMs: number | undefined;
  upstreamOpen = false;
  upstreamClose: { outcome: UpstreamCloseOutcome; ms: number } | undefined;
  outcome: Outcome | undefined;
  readonly finished: Promise<void>;
  private resolveFinished!: () => void;

  constructor(
    readonly sessionId: string,
    readonly model: string,
    private readonly writer: EventWriter,
    private readonly log: SystemLog,
    id: string = newStreamId(),
  ) {
    this.id = id;
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get ended(): boolean {
    return this.state === 'ended';
  }

  sendStatus(): void {
    this.writer.status({
      type: 'status',
      status: 'thinking',
      stream_id: this.id,
      session_id: this.sessionId,
      trace_id: this.id,
      model: this.model,
    });
  }

  /** Sends one token; resolves at once unless the client is behind (back-pressure). */
  sendToken(text: string): Promise<void> | undefined {
    if (this.tokens === 0) this.firstTokenMs = performance.now() - this.startedMs;
    const ok = this.writer.token(text, this.tokens++);
    return ok ? undefined : this.writer.drained(this.signal);
  }

  conclude(outcome: Outcome): boolean {
    if (this.outcome) return false;
    this.outcome = outcome;
    if (this.state !== 'ended') this.state = 'closing';
    this.writer.terminal(this.terminalEvent(outcome));
    if (outcome.kind !== 'done') this.controller.abort(outcome);
    return true;
  }

  cancel(reason: CancelReason): boolean {
    const cancelled = this.conclude({ kind: 'cancelled', reason });
    if (cancelled) this.log.info('stream_cancelled', { trace: this.id, session: this.sessionId, reason, tokens: this.tokens });
    return cancelled;
  }

  fail(code: ErrorCode, message: string): boolean {
    return this.conclude({ kind: 'error', code, message });
  }

  /** Called once, by the stream's own `finally`, after `stream_end` is logged. */
  markFinished(): void {
    this.state = 'ended';
    this.resolveFinished();
  }

  upstreamOpened(): void {
    this.upstreamOpen = true;
  }

  upstreamClosed(outcome: UpstreamCloseOutcome, ms: number): void {
    this.upstreamOpen = false;
    this.upstreamClose = { outcome, ms };
  }

  private terminalEvent(outcome: Outcome): TerminalEvent {
    const ids = { stream_id: this.id, session_id: this.sessionId };
    switch (outcome.kind) {
      case 'done':
        return { type: 'done', reason: outcome.reason, usage: outcome.usage, ...ids };
      case 'cancelled':
        return { type: 'cancelled', reason: outcome.reason, ...ids };
      case 'error':
        return { type: 'error', code: outcome.code, message: outcome.message, ...ids };
    }
  }
}
