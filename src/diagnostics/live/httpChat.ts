import { readEvents } from '../../client/readEvents.js';
import { ReceivedEvents } from '../../client/receivedEvents.js';
import { isTerminal, SESSION_HEADER, STREAM_HEADER, type JarvisEvent, type TerminalEvent } from '../../shared/events.js';
import { authHeaders } from './apiKey.js';

/** One NDJSON event as received, untrusted: the checks below decide whether it is well formed. */
export type WireEvent = Record<string, unknown>;

export interface TimedEvent {
  /** performance.now() at arrival. */
  at: number;
  event: WireEvent;
}

export interface ChatRequest {
  /** X-Session-Id; none → the server makes a session. */
  session?: string;
  prompt?: string;
  model?: string;
  maxTokens?: number;
  /** Sent as it is (JSON-encoded unless a string) instead of the body the fields above make. */
  body?: unknown;
  /** Gives up (aborts the request) after this long. */
  timeoutMs?: number;
  /** Aborts the request, as a client going away does. */
  signal?: AbortSignal;
  /** Extra request headers (e.g. Authorization). */
  headers?: Record<string, string>;
}

export interface ChatOutcome {
  status: number;
  streamId: string | undefined;
  sessionId: string | undefined;
  events: TimedEvent[];
  sentAt: number;
  endedAt: number;
  /** Set when the request failed, timed out or was aborted by us. */
  error: string | undefined;
  /** Lines that were not JSON objects. */
  badLines: string[];
  /** The body of a non-200 answer (bounded). */
  errorBody: string | undefined;
}

const TERMINALS = new Set(['done', 'cancelled', 'error']);

/**
 * One Jarvis NDJSON chat request as a client (the web UI, `curl`) sees it, with
 * arrival times: what `diagnose --url` probes, `matrix` measures and the tests
 * drive. It asks for NDJSON explicitly (`Accept: application/x-ndjson`). Only
 * HTTP: it works against any Jarvis, whatever model is behind it.
 */
export class LiveChat {
  readonly sentAt = performance.now();
  /** The events as they arrived, in order (as sent: `checkWireEvents` decides whether they are well formed), and waits on them. */
  private readonly received = new ReceivedEvents();
  readonly events: JarvisEvent[] = this.received.events;
  /** performance.now() at the arrival of each event of `events`. */
  readonly arrivals: number[] = this.received.arrivals;
  readonly outcome: Promise<ChatOutcome>;
  /** Resolves once the response headers are in (or the request failed). */
  readonly responded: Promise<void>;
  /** The X-Stream-Id of the answer; rejects when none came. */
  readonly streamId: Promise<string>;
  readonly controller = new AbortController();
  /** The X-Stream-Id once the headers are in. */
  knownStreamId: string | undefined;
  status = 0;
  headers = new Headers();
  private headersSeen!: () => void;
  private resolveStreamId!: (id: string) => void;
  private rejectStreamId!: (err: unknown) => void;
  private finishedPromise: Promise<JarvisEvent[]> | undefined;
  private abortedByCaller = false;

  constructor(baseUrl: string, request: ChatRequest = {}) {
    this.responded = new Promise((resolve) => (this.headersSeen = resolve));
    this.streamId = new Promise((resolve, reject) => {
      this.resolveStreamId = resolve;
      this.rejectStreamId = reject;
    });
    this.streamId.catch(() => {});
    request.signal?.addEventListener('abort', () => this.abort(), { once: true });
    this.outcome = this.run(baseUrl, request);
  }

  /** Every event once the response has ended; rejects if the request failed (unless the caller aborted it). */
  get finished(): Promise<JarvisEvent[]> {
    this.finishedPromise ??= this.outcome.then((o) => {
      if (o.error && !this.abortedByCaller) throw new Error(o.error);
      return this.events;
    });
    return this.finishedPromise;
  }

  get terminal(): TerminalEvent | undefined {
    return this.events.find(isTerminal) as TerminalEvent | undefined;
  }

  /** The answer's text so far. */
  get text(): string {
    return this.events.map((e) => (e.type === 'token' ? e.text : '')).join('');
  }

  abort(): void {
    this.abortedByCaller = true;
    this.controller.abort(new Error('aborted by the client'));
  }

  /** Resolves with the first event matching `predicate`; rejects after `timeoutMs`. */
  waitFor(predicate: (e: JarvisEvent) => boolean, timeoutMs = 10_000): Promise<JarvisEvent> {
    return this.received.waitFor(predicate, timeoutMs);
  }

  firstToken(timeoutMs?: number): Promise<JarvisEvent> {
    return this.waitFor((e) => e.type === 'token', timeoutMs);
  }

  /**
   * Resolves with the first event matching `predicate` and its arrival time, or
   * undefined once `timeoutMs` has passed (or, with `untilEnd`, the response has ended).
   */
  async arrival(predicate: (e: WireEvent) => boolean, timeoutMs: number, untilEnd = true): Promise<TimedEvent | undefined> {
    const found = await this.received.arrival((e) => predicate(e as unknown as WireEvent), timeoutMs, untilEnd);
    return found && { at: found.at, event: found.event as unknown as WireEvent };
  }

  private async run(baseUrl: string, request: ChatRequest): Promise<ChatOutcome> {
    const timeout = request.timeoutMs === undefined ? undefined : setTimeout(() => this.controller.abort(new Error(`no end within ${request.timeoutMs} ms`)), request.timeoutMs);
    const result: ChatOutcome = { status: 0, streamId: undefined, sessionId: undefined, events: [], sentAt: this.sentAt, endedAt: 0, error: undefined, badLines: [], errorBody: undefined };
    try {
      let body = request.body;
      if (body === undefined) {
        const built: Record<string, unknown> = { messages: [{ role: 'user', content: request.prompt ?? 'hello' }] };
        if (request.model) built.model = request.model;
        if (request.maxTokens) built.max_tokens = request.maxTokens;
        body = built;
      }
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/x-ndjson', ...authHeaders(), ...request.headers };
      if (request.session !== undefined) headers[SESSION_HEADER] = request.session;
      const res = await fetch(new URL('/v1/chat/completions', baseUrl), {
        method: 'POST',
        headers,
        body: typeof body === 'string' ? body : JSON.stringify(body),
        signal: this.controller.signal,
      });
      this.status = result.status = res.status;
      this.headers = res.headers;
      this.settleStreamId(result, res.headers.get(STREAM_HEADER) ?? undefined);
      result.sessionId = res.headers.get(SESSION_HEADER) ?? undefined;
      this.headersSeen();
      if (res.status !== 200) {
        result.errorBody = (await res.text()).slice(0, 2000);
        return result;
      }
      if (res.body) {
        const onBadLine = (line: string) => {
          if (result.badLines.length < 5) result.badLines.push(line.slice(0, 200));
        };
        for await (const event of readEvents(res.body, undefined, { onBadLine })) this.received.push(event);
      }
    } catch (err) {
      const reason = this.controller.signal.reason as Error | undefined;
      result.error = this.controller.signal.aborted && reason ? reason.message : err instanceof Error ? `${err.message}${err.cause ? ` (${String((err.cause as Error).message ?? err.cause)})` : ''}` : String(err);
    } finally {
      clearTimeout(timeout);
      result.endedAt = performance.now();
      result.events = this.events.map((event, i) => ({ at: this.arrivals[i]!, event: event as unknown as WireEvent }));
      this.settleStreamId(result, undefined);
      this.headersSeen();
      this.received.end();
    }
    return result;
  }

  private settleStreamId(result: ChatOutcome, id: string | undefined): void {
    if (id) {
      result.streamId = this.knownStreamId = id;
      this.resolveStreamId(id);
    } else this.rejectStreamId(new Error(`no X-Stream-Id (status ${result.status}${result.error ? `: ${result.error}` : ''})`));
  }
}

/** Starts one NDJSON chat request. */
export function chat(baseUrl: string, request?: ChatRequest): LiveChat {
  return new LiveChat(baseUrl, request);
}

/**
 * The wire format (docs/api.md) as a client checks it: every event carries `stream_id` (the one in the
 * X-Stream-Id header) and `session_id`, the first is `status`, tokens carry
 * `seq` 0, 1, 2… in order, and exactly one terminal event ends the stream.
 * Returns the problems found; empty means well formed.
 */
export function checkWireEvents(outcome: ChatOutcome, session: string): string[] {
  const problems: string[] = [];
  if (outcome.status !== 200) return [`HTTP ${outcome.status || 'no answer'}${outcome.error ? `: ${outcome.error}` : ''}${outcome.errorBody ? `: ${outcome.errorBody.slice(0, 200)}` : ''}`];
  if (!outcome.streamId) problems.push('the response has no X-Stream-Id header');
  if (outcome.sessionId !== session) problems.push(`X-Session-Id is ${JSON.stringify(outcome.sessionId)}, expected ${session}`);
  for (const bad of outcome.badLines) problems.push(`a line is not a JSON event: ${bad}`);
  const events = outcome.events.map((e) => e.event);
  if (events.length === 0) problems.push('no events at all');
  if (events[0] && events[0].type !== 'status') problems.push(`first event is ${String(events[0].type)}, expected status`);
  let expectedSeq = 0;
  let terminals = 0;
  events.forEach((e, i) => {
    const where = `event ${i} (${String(e.type)})`;
    if (typeof e.stream_id !== 'string' || e.stream_id === '') problems.push(`${where} has no stream_id`);
    else if (outcome.streamId && e.stream_id !== outcome.streamId) problems.push(`${where} has stream_id ${e.stream_id}, not this stream's ${outcome.streamId}`);
    if (e.session_id !== session) problems.push(`${where} has session_id ${JSON.stringify(e.session_id)}, expected ${session}`);
    if (e.type === 'token') {
      if (e.seq !== expectedSeq) problems.push(`${where} has seq ${JSON.stringify(e.seq)}, expected ${expectedSeq}`);
      expectedSeq = (typeof e.seq === 'number' ? e.seq : expectedSeq) + 1;
    }
    if (TERMINALS.has(String(e.type))) {
      terminals++;
      if (i !== events.length - 1) problems.push(`${where} is terminal but ${events.length - 1 - i} event(s) follow it`);
    }
  });
  if (terminals !== 1 && !outcome.error) problems.push(`${terminals} terminal events (done/cancelled/error), expected exactly 1`);
  if (outcome.error) problems.push(`the request failed: ${outcome.error}`);
  return problems.slice(0, 10);
}
