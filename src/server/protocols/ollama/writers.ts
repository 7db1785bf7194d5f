import type { ServerResponse } from 'node:http';
import { SESSION_HEADER, STREAM_HEADER, limitFields, type StatusEvent, type TerminalEvent, type ToolCall } from '../../../shared/events.js';
import type { EventWriter } from '../../../streams/eventWriter.js';
import type { TokenLogprob } from '../../../shared/logprobs.js';
import type { StreamTiming } from '../../../streams/streamTiming.js';
import { ResponseWriter, streamHeaders } from '../responseWriter.js';
import { SERVER_TIMING, serverTimingValue, streamTimingHeaders } from '../../http/serverTiming.js';
import { errorOfEvent, retryHeaders } from '../../../shared/errors.js';
import { ollamaErrorBody, ollamaErrorLine } from './errors.js';
import { ReplyClock } from './timings.js';
import { writeStreamHead } from '../../http/streamHead.js';

/** `/api/chat` replies carry a `message`; `/api/generate` replies a `response` string (and `context`). */
export type OllamaEndpoint = 'chat' | 'generate';

export interface OllamaWriterOptions {
  endpoint: OllamaEndpoint;
  model: string;
  streamId: string;
  sessionId: string;
  /** generate: the `context` for the last line, from the whole reply. */
  context?: (reply: string) => number[];
  /** Reported as `Server-Timing` (docs/api.md). */
  timing?: StreamTiming;
  /** The client asked for logprobs: a `stream: false` reply has `logprobs` (empty if the backend sent none). */
  logprobs?: boolean;
}

/** A tool call as Ollama writes it: arguments as an object, not JSON text. */
export interface OllamaToolCall {
  id: string;
  function: { index: number; name: string; arguments: Record<string, unknown> };
}

export function ollamaToolCall(call: ToolCall, index: number): OllamaToolCall {
  let args: unknown;
  try {
    args = JSON.parse(call.arguments);
  } catch {
    args = undefined;
  }
  // Text a model wrote that is not a JSON object cannot be an Ollama argument map.
  const argumentsObject = typeof args === 'object' && args !== null && !Array.isArray(args) ? (args as Record<string, unknown>) : {};
  return { id: call.id, function: { index, name: call.name, arguments: argumentsObject } };
}

/**
 * `done_reason` of the last line: Ollama's `stop` / `length` (a reply that called
 * tools is `stop`, as Ollama says it). A stream Jarvis cancelled ends with `stop`,
 * which every Ollama client knows, and says why in a field of its own,
 * `cancel_reason` (`superseded`, `stopped`, `client_closed`, `shutdown`, `revoked`), as the
 * OpenAI adapter does (docs/api.md#ollama-api).
 */
function doneReason(event: TerminalEvent): { done_reason: string; cancel_reason?: string } {
  if (event.type === 'done') return { done_reason: event.reason === 'tool_calls' ? 'stop' : event.reason };
  return event.type === 'cancelled' ? { done_reason: 'stop', cancel_reason: event.reason } : { done_reason: 'error' };
}

/** What a reply said, for the one object of `stream: false` (or the `context` of a streamed generate). */
interface Said {
  content: string;
  thinking: string;
  toolCalls: OllamaToolCall[];
}

/** The part of a line that carries what the model said: a chat `message`, or generate's `response` fields. */
function said(endpoint: OllamaEndpoint, s: Said): Record<string, unknown> {
  const extra = { ...(s.thinking ? { thinking: s.thinking } : {}), ...(s.toolCalls.length > 0 ? { tool_calls: s.toolCalls } : {}) };
  return endpoint === 'chat' ? { message: { role: 'assistant', content: s.content, ...extra } } : { response: s.content, ...extra };
}

function lastLine(options: OllamaWriterOptions, clock: ReplyClock, event: TerminalEvent, final: Said, reply: () => string, tokens: number): string {
  const usage = event.type === 'done' ? event.usage : { prompt_tokens: 0, completion_tokens: tokens };
  return JSON.stringify({
    model: options.model,
    created_at: clock.now(),
    ...said(options.endpoint, final),
    done: true,
    ...doneReason(event),
    ...limitFields(event),
    ...(options.endpoint === 'generate' && options.context ? { context: options.context(reply()) } : {}),
    ...clock.metrics(usage.prompt_tokens, usage.completion_tokens),
  });
}

/** Headers of a reply complete as they leave (`stream: false`, or an error before any output): all the timings. */
function jsonHeaders(options: OllamaWriterOptions): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', [SESSION_HEADER]: options.sessionId, [STREAM_HEADER]: options.streamId };
  if (options.timing) headers[SERVER_TIMING] = serverTimingValue(options.timing, { total: true });
  return headers;
}

const NOTHING: Said = { content: '', thinking: '', toolCalls: [] };

/**
 * Ollama's streamed reply (`stream` absent or true): one JSON object per line,
 * the last with `done: true`. As Ollama does, nothing is sent before the model's
 * first output, so an error before it (model not found, upstream down) is an HTTP
 * status with `{"error":"…"}`; an error after it is an `{"error":"…"}` line, which
 * ollama-js throws from its iterator. A cancelled stream ends with a normal last
 * line, `done_reason: "stop"`, whose `cancel_reason` says why.
 */
export class OllamaNdjsonWriter extends ResponseWriter implements EventWriter {
  private readonly clock = new ReplyClock();
  private readonly head: string;
  private readonly tokenHead: string;
  private readonly tokenTail: string;
  private readonly reply: string[] | undefined;
  private tokens = 0;

  constructor(
    res: ServerResponse,
    private readonly options: OllamaWriterOptions,
  ) {
    super(res, options.timing);
    // A token line is written from pieces encoded once; Jarvis's own Ollama client reads this exact order fast.
    this.head = `{"model":${JSON.stringify(options.model)},"created_at":"`;
    this.tokenHead = options.endpoint === 'chat' ? '","message":{"role":"assistant","content":' : '","response":';
    this.tokenTail = options.endpoint === 'chat' ? '},"done":false}\n' : ',"done":false}\n';
    this.reply = options.context ? [] : undefined;
  }

  private open(): void {
    if (this.res.headersSent || this.gone) return;
    const timing = this.options.timing;
    writeStreamHead(this.res, 200, { ...streamHeaders('application/x-ndjson', this.options.sessionId, this.options.streamId), ...(timing ? streamTimingHeaders(this.res, timing) : {}) });
  }

  private line(s: Said): boolean {
    this.open();
    this.clock.token();
    return this.write(`${JSON.stringify({ model: this.options.model, created_at: this.clock.now(), ...said(this.options.endpoint, s), done: false })}\n`);
  }

  status(_event: StatusEvent): void {}

  token(text: string, _seq: number, logprobs?: TokenLogprob[]): boolean {
    this.open();
    this.clock.token();
    this.tokens++;
    this.reply?.push(text);
    // As Ollama writes it: the line's tokens' logprobs after `done`.
    const tail = logprobs === undefined ? this.tokenTail : `${this.tokenTail.slice(0, -2)},"logprobs":${JSON.stringify(logprobs)}}\n`;
    return this.write(`${this.head}${this.clock.now()}${this.tokenHead}${JSON.stringify(text)}${tail}`);
  }

  reasoning(text: string, _seq: number): boolean {
    return this.line({ content: '', thinking: text, toolCalls: [] });
  }

  toolCall(call: ToolCall, index: number): boolean {
    return this.line({ content: '', thinking: '', toolCalls: [ollamaToolCall(call, index)] });
  }

  terminal(event: TerminalEvent): void {
    if (this.gone) return;
    if (event.type === 'error') {
      const error = errorOfEvent(event);
      if (this.res.headersSent) return this.finish(ollamaErrorLine(error));
      writeStreamHead(this.res, error.status, { ...jsonHeaders(this.options), ...retryHeaders(error.code) });
      return this.finish(JSON.stringify(ollamaErrorBody(error)));
    }
    this.open();
    this.finish(`${lastLine(this.options, this.clock, event, NOTHING, () => this.reply?.join('') ?? '', this.tokens)}\n`);
  }
}

/** `stream: false`: the reply collected into one JSON object; an error is its HTTP status and `{"error":"…"}`. */
export class OllamaJsonWriter implements EventWriter {
  private readonly clock = new ReplyClock();
  private readonly parts: string[] = [];
  private readonly thinking: string[] = [];
  private readonly toolCalls: OllamaToolCall[] = [];
  private readonly logprobs: TokenLogprob[] = [];

  constructor(
    private readonly res: ServerResponse,
    private readonly options: OllamaWriterOptions,
  ) {}

  status(_event: StatusEvent): void {}

  token(text: string, _seq: number, logprobs?: TokenLogprob[]): boolean {
    this.clock.token();
    this.parts.push(text);
    if (logprobs !== undefined) this.logprobs.push(...logprobs);
    return true;
  }

  reasoning(text: string, _seq: number): boolean {
    this.clock.token();
    this.thinking.push(text);
    return true;
  }

  toolCall(call: ToolCall, index: number): boolean {
    this.clock.token();
    this.toolCalls.push(ollamaToolCall(call, index));
    return true;
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }

  terminal(event: TerminalEvent): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    if (event.type === 'error') {
      const error = errorOfEvent(event);
      writeStreamHead(res, error.status, { ...jsonHeaders(this.options), ...retryHeaders(error.code) });
      res.end(JSON.stringify(ollamaErrorBody(error)));
      return;
    }
    const content = this.parts.join('');
    writeStreamHead(res, 200, jsonHeaders(this.options));
    const line = lastLine(this.options, this.clock, event, { content, thinking: this.thinking.join(''), toolCalls: this.toolCalls }, () => content, this.parts.length);
    res.end(this.options.logprobs ? `${line.slice(0, -1)},"logprobs":${JSON.stringify(this.logprobs)}}` : line);
  }
}
