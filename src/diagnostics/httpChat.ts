import { LineSplitter } from '../shared/ndjson.js';
import { SESSION_HEADER, STREAM_HEADER } from '../shared/events.js';

/** One NDJSON event as received, untrusted: the checks below decide whether it is well formed. */
export type WireEvent = Record<string, unknown>;

export interface TimedEvent {
  /** performance.now() at arrival. */
  at: number;
  event: WireEvent;
}

export interface ChatRequest {
  session: string;
  prompt: string;
  model?: string;
  maxTokens?: number;
  /** Gives up (aborts the request) after this long. */
  timeoutMs: number;
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
 * A Jarvis NDJSON chat request as a client (the web UI, `curl`) sees it, with
 * arrival times: what `diagnose --url` probes and `matrix` measures. Only HTTP:
 * it works against any Jarvis, whatever model is behind it.
 */
export class LiveChat {
  readonly sentAt = performance.now();
  readonly events: TimedEvent[] = [];
  readonly outcome: Promise<ChatOutcome>;
  private readonly controller = new AbortController();
  private listeners: Array<() => void> = [];
  private headersSeen: (() => void) | undefined;
  readonly headers: Promise<void>;
  status = 0;
  streamId: string | undefined;

  constructor(baseUrl: string, request: ChatRequest) {
    this.headers = new Promise((resolve) => (this.headersSeen = resolve));
    this.outcome = this.run(baseUrl, request);
  }

  get terminal(): TimedEvent | undefined {
    return this.events.find((e) => TERMINALS.has(String(e.event.type)));
  }

  get firstToken(): TimedEvent | undefined {
    return this.events.find((e) => e.event.type === 'token');
  }

  abort(): void {
    this.controller.abort(new Error('aborted by the client'));
  }

  /** Resolves with the first event matching `predicate`, or undefined once the response has ended or `timeoutMs` passed. */
  waitFor(predicate: (e: WireEvent) => boolean, timeoutMs: number): Promise<TimedEvent | undefined> {
    return new Promise((resolve) => {
      const check = (ended = false) => {
        const found = this.events.find((e) => predicate(e.event));
        if (!found && !ended) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== listener);
        resolve(found);
      };
      const listener = () => check();
      // Declared after `check`, which only runs once the timer exists.
      const timer = setTimeout(() => check(true), timeoutMs);
      this.listeners.push(listener);
      void this.outcome.then(() => check(true));
      check();
    });
  }

  private async run(baseUrl: string, request: ChatRequest): Promise<ChatOutcome> {
    const timeout = setTimeout(() => this.controller.abort(new Error(`no end within ${request.timeoutMs} ms`)), request.timeoutMs);
    const result: ChatOutcome = { status: 0, streamId: undefined, sessionId: undefined, events: this.events, sentAt: this.sentAt, endedAt: 0, error: undefined, badLines: [], errorBody: undefined };
    try {
      const body: Record<string, unknown> = { messages: [{ role: 'user', content: request.prompt }] };
      if (request.model) body.model = request.model;
      if (request.maxTokens) body.max_tokens = request.maxTokens;
      const res = await fetch(new URL('/v1/chat/completions', baseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SESSION_HEADER]: request.session },
        body: JSON.stringify(body),
        signal: this.controller.signal,
      });
      this.status = result.status = res.status;
      this.streamId = result.streamId = res.headers.get(STREAM_HEADER) ?? undefined;
      result.sessionId = res.headers.get(SESSION_HEADER) ?? undefined;
      this.headersSeen?.();
      if (res.status !== 200) {
        result.errorBody = (await res.text()).slice(0, 2000);
        return result;
      }
      const splitter = new LineSplitter();
      const onLines = (lines: string[]) => {
        for (const line of lines) this.push(line, result);
      };
      for await (const chunk of res.body ?? []) onLines(splitter.push(chunk as Uint8Array));
      onLines(splitter.end());
    } catch (err) {
      const reason = this.controller.signal.reason as Error | undefined;
      result.error = this.controller.signal.aborted && reason ? reason.message : err instanceof Error ? `${err.message}${err.cause ? ` (${String((err.cause as Error).message ?? err.cause)})` : ''}` : String(err);
    } finally {
      clearTimeout(timeout);
      result.endedAt = performance.now();
      this.headersSeen?.();
    }
    return result;
  }

  private push(line: string, result: ChatOutcome): void {
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      event = undefined;
    }
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      if (result.badLines.length < 5) result.badLines.push(line.slice(0, 200));
      return;
    }
    this.events.push({ at: performance.now(), event: event as WireEvent });
    for (const l of [...this.listeners]) l();
  }
}

/**
 * SPEC §3 as a client checks it: every event carries `stream_id` (the one in the
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
