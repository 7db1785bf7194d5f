import { randomUUID } from 'node:crypto';
import type { CancelReason, ErrorCode, StatusEvent, ToolCall } from '../shared/events.js';
import type { EngineStop, UpstreamLink } from '../backends/upstream/upstreamLink.js';
import type { UpstreamCloseOutcome } from '../backends/upstream/upstreamHttp.js';
import type { SystemLog } from '../log/systemLog.js';
import type { EventWriter } from './eventWriter.js';
import type { ChoiceDelta, TokenLogprob } from '../shared/logprobs.js';
import { StreamTiming } from './streamTiming.js';
import { atLengthLimit, terminalEvent, type LengthLimit, type Outcome } from './terminalEvent.js';

export type { Outcome } from './terminalEvent.js';


/** waiting: for the stream it superseded · streaming: generating · closing: concluded, upstream being released · ended. */
export type StreamState = 'waiting' | 'streaming' | 'closing' | 'ended';

export function newStreamId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 16);
}

export interface ChatStreamOptions {
  sessionId: string;
  /** The API key's name the stream belongs to ('' without keys): sessions are scoped by it. */
  owner?: string;
  /** The caller's keyId (`key_…`, `env:<name>`…; '' without keys): a revoked key's streams end `revoked`. */
  keyId?: string;
  /** The OpenAI `user` field, as the client sent it: only logged. */
  user?: string | undefined;
  model: string;
  writer: EventWriter;
  log: SystemLog;
  /** After an abort, how long the upstream gets to acknowledge before it is cut off. */
  closeGraceMs: number;
  id?: string;
  /** Shared with the writer, which reports it (`Server-Timing`); by default the request arrives now. */
  timing?: StreamTiming;
  /** A key's limit that capped the request's max_tokens: a `length` end at the cap names it (DoneEvent.limit). */
  lengthLimit?: LengthLimit;
}

/**
 * One chat stream: its id, its one AbortController, its reader and its outcome.
 * `conclude` is the single place a stream's fate is decided: the first call wins,
 * writes the one terminal event and, unless the stream completed, aborts its upstream
 * and starts the deadline after which the upstream connection is killed.
 */
export class ChatStream implements UpstreamLink {
  readonly id: string;
  readonly sessionId: string;
  readonly owner: string;
  readonly keyId: string;
  readonly user: string | undefined;
  readonly model: string;
  private readonly controller = new AbortController();
  /** Made on first use: most streams end without anyone asking for their kill signal. */
  private killer: AbortController | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  readonly createdAt = Date.now();
  readonly startedMs = performance.now();
  readonly timing: StreamTiming;
  // Its state, changed only by its own methods (`conclude` decides the outcome); read through the getters below.
  #state: StreamState = 'waiting';
  #tokens = 0;
  #reasoningParts = 0;
  #toolCalls = 0;
  /** `n` > 1: the pieces of text the further choices sent (about their tokens, when the upstream reports no usage). */
  #choiceTokens = 0;
  #firstTokenMs: number | undefined;
  #upstreamOpen = false;
  /** Several model servers: the one answering (set when routed), and whether it waits in a queue for one. */
  #upstream: string | undefined;
  #inQueue = false;
  #routedAt: number | undefined;
  #upstreamClose: { outcome: UpstreamCloseOutcome; ms: number } | undefined;
  #outcome: Outcome | undefined;
  /** When its upstream was told to stop (performance.now()); undefined while it never was. */
  #abortedAt: number | undefined;
  /** What its backend reported about the engine after the abort (the first report wins). */
  #engineReport: EngineStop | undefined;
  /** The verdict `stream_end` logged (the report, or runStream's default); undefined when nothing was cancelled. */
  #cancelVerdict: EngineStop | undefined;
  #cancelSettled = false;
  /** Ends runStream's wait for the report (`engineReported`). */
  #reportWaiter: (() => void) | undefined;
  // `finished` is made when first asked for (a supersede, a shutdown): an idle stream holds no promise for it.
  private finishedPromise: Promise<void> | undefined;
  private resolveFinished: (() => void) | undefined;

  private statusSent = false;
  private readonly writer: EventWriter;
  private readonly log: SystemLog;
  private readonly closeGraceMs: number;
  private readonly lengthLimit: LengthLimit | undefined;

  constructor(options: ChatStreamOptions) {
    this.id = options.id ?? newStreamId();
    this.sessionId = options.sessionId;
    this.owner = options.owner ?? '';
    this.keyId = options.keyId ?? '';
    this.user = options.user;
    this.model = options.model;
    this.writer = options.writer;
    this.log = options.log;
    this.closeGraceMs = options.closeGraceMs;
    this.timing = options.timing ?? new StreamTiming(this.startedMs);
    this.lengthLimit = options.lengthLimit;
  }

  get state(): StreamState {
    return this.#state;
  }

  /** Tokens sent so far (the next token's seq). */
  get tokens(): number {
    return this.#tokens;
  }

  get reasoningParts(): number {
    return this.#reasoningParts;
  }

  get toolCalls(): number {
    return this.#toolCalls;
  }

  get choiceTokens(): number {
    return this.#choiceTokens;
  }

  /** Time to the first token, reasoning or tool call: the model's first sign of progress. */
  get firstTokenMs(): number | undefined {
    return this.#firstTokenMs;
  }

  /** The model server answering it (JARVIS_UPSTREAMS's name), once routed; undefined with one server. */
  get upstream(): string | undefined {
    return this.#upstream;
  }

  /** Waiting in a queue for a model server: the first-token wait has not begun (docs/upstreams.md "Queues"). */
  get inQueue(): boolean {
    return this.#inQueue;
  }

  /** When its server was chosen (performance.now()): the first-token wait counts from here. */
  get routedAt(): number | undefined {
    return this.#routedAt;
  }

  get upstreamOpen(): boolean {
    return this.#upstreamOpen;
  }

  get upstreamClose(): { outcome: UpstreamCloseOutcome; ms: number } | undefined {
    return this.#upstreamClose;
  }

  /** How it ended, once `conclude` has decided. */
  get outcome(): Outcome | undefined {
    return this.#outcome;
  }

  /** When its upstream was told to stop (a cancel, a limit, an error, a lost lease); undefined if never. */
  get abortedAt(): number | undefined {
    return this.#abortedAt;
  }

  /** The backend's report on the engine after the abort, if it made one (docs/operations.md "Stop at the engine"). */
  get engineReport(): EngineStop | undefined {
    return this.#engineReport;
  }

  /** The verdict its `stream_end` carries; set just before `stream_end`, undefined for a stream Jarvis never cut short. */
  get cancelVerdict(): EngineStop | undefined {
    return this.#cancelVerdict;
  }

  /** Resolves once the stream has ended (its `stream_end` logged). */
  get finished(): Promise<void> {
    if (!this.finishedPromise) {
      this.finishedPromise = this.#state === 'ended' ? Promise.resolve() : new Promise((resolve) => (this.resolveFinished = resolve));
    }
    return this.finishedPromise;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get killSignal(): AbortSignal {
    this.killer ??= new AbortController();
    return this.killer.signal;
  }

  /** The stream's first event: readers learn its ids (and, in a cluster, Redis stores it with the session). */
  statusEvent(): StatusEvent {
    return { type: 'status', status: 'thinking', stream_id: this.id, session_id: this.sessionId, trace_id: this.id, model: this.model };
  }

  sendStatus(): void {
    if (this.statusSent) return;
    this.statusSent = true;
    this.writer.status(this.statusEvent());
  }

  /** The engine loads the model before it answers: readers are told (a second status event, docs/api.md). */
  modelLoading(model: string): void {
    if (this.#outcome) return;
    this.sendStatus();
    this.writer.status({ ...this.statusEvent(), status: 'loading_model', model });
  }

  /** Every server of the model is full: the readers learn its place in the queue (a `queued` status). */
  queued(position: number): void {
    this.#inQueue = true;
    if (this.#outcome) return;
    this.sendStatus();
    this.writer.status({ ...this.statusEvent(), status: 'queued', position });
  }

  /** Its server is chosen (again, after a failover before the first token): named to the readers and in the log. */
  routed(upstream: string): void {
    this.#inQueue = false;
    this.#upstream = upstream;
    this.#routedAt = performance.now();
    if (this.#outcome) return;
    this.sendStatus();
    this.writer.status({ ...this.statusEvent(), status: 'routed', upstream });
  }

  /** Its wait for the stream it superseded is over: it generates now. */
  startStreaming(): void {
    if (this.#state === 'waiting') this.#state = 'streaming';
  }

  /** Sends one token; resolves at once unless the client is behind (back-pressure). */
  sendToken(text: string): Promise<void> | undefined {
    if (this.#firstTokenMs === undefined) this.firstProgress();
    const ok = this.writer.token(text, this.#tokens++);
    return ok ? undefined : this.writer.drained(this.signal);
  }

  /** A token with its logprobs (a request that asked for them); the same back-pressure as `sendToken`. */
  sendScoredToken(text: string, logprobs: TokenLogprob[]): Promise<void> | undefined {
    if (this.#firstTokenMs === undefined) this.firstProgress();
    const ok = this.writer.token(text, this.#tokens++, logprobs);
    return ok ? undefined : this.writer.drained(this.signal);
  }

  /** A piece of another reply (`n` > 1): its text counts towards the stream's progress, not its tokens. */
  sendChoice(delta: ChoiceDelta): Promise<void> | undefined {
    if (this.#firstTokenMs === undefined) this.firstProgress();
    if (delta.text !== undefined) this.#choiceTokens++;
    const ok = this.writer.choice ? this.writer.choice(delta) : true;
    return ok ? undefined : this.writer.drained(this.signal);
  }

  sendReasoning(text: string): Promise<void> | undefined {
    if (this.#firstTokenMs === undefined) this.firstProgress();
    const ok = this.writer.reasoning(text, this.#reasoningParts++);
    return ok ? undefined : this.writer.drained(this.signal);
  }

  sendToolCall(call: ToolCall): Promise<void> | undefined {
    if (this.#firstTokenMs === undefined) this.firstProgress();
    const ok = this.writer.toolCall(call, this.#toolCalls++);
    return ok ? undefined : this.writer.drained(this.signal);
  }

  private firstProgress(): void {
    this.#firstTokenMs = performance.now() - this.startedMs;
    // Before the writer runs: an SSE reply sends its headers, `Server-Timing` among them, with its first token.
    this.timing.firstByte();
  }

  conclude(outcome: Outcome): boolean {
    if (this.#outcome) return false;
    if (this.lengthLimit) outcome = atLengthLimit(outcome, this.lengthLimit, this.#tokens);
    this.#outcome = outcome;
    // Ended before its status went out (cancelled while the cluster took its session): the status still comes first.
    this.sendStatus();
    if (this.#state !== 'ended') this.#state = 'closing';
    // The upstream is told first (Stop → upstream closed is the figure that matters), then the reader.
    if (outcome.kind !== 'done') this.releaseUpstream(outcome);
    this.writer.terminal(terminalEvent(outcome, { stream_id: this.id, session_id: this.sessionId }, this.#firstTokenMs, this.startedMs));
    return true;
  }

  /**
   * Ends the reply as complete but cut short (`done`/`length`: max_tokens, or the
   * reply-size cap) while the upstream is still generating; the upstream is told
   * to stop, as on a cancel.
   */
  truncate(): boolean {
    const outcome: Outcome = { kind: 'done', reason: 'length', usage: { prompt_tokens: 0, completion_tokens: this.#tokens } };
    if (!this.conclude(outcome)) return false;
    this.releaseUpstream(outcome);
    return true;
  }

  /** The client's writer can take no more of this reply (a `stream: false` reply at its size cap). */
  get replyFull(): boolean {
    return this.writer.full === true;
  }

  /** Aborts the upstream and starts the deadline after which its connection is cut. */
  private releaseUpstream(outcome: Outcome): void {
    this.#abortedAt ??= performance.now();
    this.controller.abort(outcome);
    if (this.#state !== 'ended') this.killTimer = setTimeout(() => this.kill('close_grace_expired'), this.closeGraceMs);
  }

  /** Cuts the upstream connection now, acknowledged or not (grace expired, shutdown). */
  kill(why: string): void {
    this.killer ??= new AbortController();
    if (this.killer.signal.aborted || this.#state === 'ended') return;
    if (this.#upstreamOpen) this.log.warn('upstream_killed', { trace: this.id, session: this.sessionId, why });
    this.killer.abort(why);
  }

  cancel(reason: CancelReason): boolean {
    const cancelled = this.conclude({ kind: 'cancelled', reason });
    if (cancelled) this.log.info('stream_cancelled', { trace: this.id, session: this.sessionId, reason, tokens: this.#tokens });
    return cancelled;
  }

  /** `message` is for people; `detail` the technical cause (errno, the upstream's words), also logged (docs/errors.md). */
  fail(code: ErrorCode, message: string, status?: number, detail?: string): boolean {
    return this.conclude({ kind: 'error', code, message, ...(status === undefined ? {} : { status }), ...(detail ? { detail } : {}) });
  }

  /**
   * Another instance took the stream's session (its lease lapsed and the cluster recorded it
   * lost): it ends `lost` and its upstream is told to stop now, even after a `done`.
   */
  loseSession(message: string): void {
    this.fail('lost', message);
    this.#abortedAt ??= performance.now();
    this.controller.abort('lease_lost');
  }

  engineStopped(stop: EngineStop): void {
    if (this.#engineReport) return;
    this.#engineReport = stop;
    this.#reportWaiter?.();
    // Past the grace its stream_end has gone out without it: the log still gets the engine's word.
    if (this.#cancelSettled) {
      this.log.info('engine_verdict_late', { trace: this.id, session: this.sessionId, cancel: stop.verdict, cancel_ms: Math.round(stop.ms), cancel_how: stop.how, slot: stop.slot });
    }
  }

  /**
   * Resolves once the backend has reported on its engine, or when the cancel grace (counted
   * from the abort) is over: a backend that probes its engine in the background (a
   * llama.cpp server's `/slots`) may answer after its stream iterator has ended.
   */
  engineReported(): Promise<void> {
    const left = this.#abortedAt === undefined ? 0 : this.#abortedAt + this.closeGraceMs - performance.now();
    if (this.#engineReport || left <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#reportWaiter = undefined;
        resolve();
      };
      const timer = setTimeout(done, left);
      this.#reportWaiter = done;
    });
  }

  /** Called once, by the stream's own `finally`, just before `stream_end` is logged. */
  settleCancel(verdict: EngineStop | undefined): void {
    this.#cancelVerdict = verdict;
    this.#cancelSettled = true;
  }

  /** Called once, by the stream's own `finally`, after `stream_end` is logged. */
  markFinished(): void {
    clearTimeout(this.killTimer);
    this.#state = 'ended';
    this.resolveFinished?.();
  }

  upstreamRequested(): void {
    this.timing.upstreamRequested();
  }

  upstreamOpened(): void {
    this.#upstreamOpen = true;
  }

  upstreamFirstToken(readAt: number): void {
    this.timing.upstreamFirstToken(readAt);
  }

  upstreamClosed(outcome: UpstreamCloseOutcome, ms: number): void {
    this.#upstreamOpen = false;
    this.#upstreamClose = { outcome, ms };
  }
}
