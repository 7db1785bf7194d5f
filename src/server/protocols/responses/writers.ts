import type { ServerResponse } from 'node:http';
import { BufferedReply } from '../bufferedReply.js';
import type { StatusEvent, TerminalEvent, ToolCall } from '../../../shared/events.js';
import { errorOfEvent, retryHeaders } from '../../../shared/errors.js';
import type { EventWriter } from '../../../streams/eventWriter.js';
import type { StreamTiming } from '../../../streams/streamTiming.js';
import { SERVER_TIMING, serverTimingValue, streamTimingHeaders } from '../../http/serverTiming.js';
import { writeStreamHead } from '../../http/streamHead.js';
import { openaiErrorBody } from '../openai/errors.js';
import { ResponseWriter, streamHeaders } from '../responseWriter.js';
import { ResponsesEncoder } from './encoder.js';
import type { ResponseMeta, ResponseObject } from './types.js';

export interface ResponsesWriterOptions {
  streamId: string;
  sessionId: string;
  meta: ResponseMeta;
  /** What a buffered (`stream: false`) reply may accumulate (JARVIS_MAX_REPLY_BYTES). */
  maxReplyBytes?: number;
  timing?: StreamTiming;
  /** Called once with the final Response object, whatever the outcome (the store's hook: routes.ts ResponsesStore). */
  onFinished?: (response: ResponseObject) => void;
}

/** The HTTP error answer of an error before any content: its status and OpenAI's error body. */
function writeHttpError(res: ServerResponse, event: Extract<TerminalEvent, { type: 'error' }>, options: ResponsesWriterOptions, end: (body: string) => void): void {
  const error = errorOfEvent(event);
  const timing = options.timing;
  writeStreamHead(res, error.status, {
    ...streamHeaders('application/json; charset=utf-8', options.sessionId, options.streamId),
    'cache-control': 'no-store',
    ...retryHeaders(error.code),
    ...(timing ? { [SERVER_TIMING]: serverTimingValue(timing, { total: true }) } : {}),
  });
  end(JSON.stringify(openaiErrorBody(error)));
}

/**
 * `stream: true`: the Responses streaming events as SSE (encoder.ts).
 *
 * As for Chat Completions (openai/writers.ts SseWriter), the status line waits for the
 * first content: an error before it is answered with its own HTTP status and OpenAI's
 * error body, so SDKs raise the right error; after it, an error is an `error` event
 * followed by `response.failed`.
 */
export class ResponsesSseWriter extends ResponseWriter implements EventWriter {
  private readonly encoder: ResponsesEncoder;
  /** `response.created` and `response.in_progress`, held until the status line goes out. */
  private head = '';
  private opened = false;

  constructor(
    res: ServerResponse,
    private readonly options: ResponsesWriterOptions,
  ) {
    super(res, options.timing);
    this.encoder = new ResponsesEncoder(options.meta);
  }

  private open(): void {
    if (this.opened || this.gone) return;
    this.opened = true;
    const timing = this.options.timing;
    writeStreamHead(this.res, 200, {
      ...streamHeaders('text/event-stream; charset=utf-8', this.options.sessionId, this.options.streamId),
      ...(timing ? streamTimingHeaders(this.res, timing) : {}),
    });
    this.head += this.encoder.status();
    this.write(this.head);
    this.head = '';
  }

  status(_event: StatusEvent): void {
    if (!this.opened) this.head += this.encoder.status();
  }

  token(text: string, _seq: number): boolean {
    if (!this.opened) this.open();
    return this.write(this.encoder.token(text));
  }

  reasoning(text: string, _seq: number): boolean {
    if (!this.opened) this.open();
    return this.write(this.encoder.reasoning(text));
  }

  toolCall(call: ToolCall, _index: number): boolean {
    if (!this.opened) this.open();
    return this.write(this.encoder.toolCall(call));
  }

  terminal(event: TerminalEvent): void {
    const out = this.encoder.terminal(event);
    this.options.onFinished?.(this.encoder.response());
    if (this.gone) return;
    if (event.type === 'error' && !this.opened) {
      this.opened = true;
      writeHttpError(this.res, event, this.options, (body) => this.finish(body));
      return;
    }
    this.open();
    this.finish(out);
  }
}

/**
 * `stream` false or absent: one Response object at the end. The session rules are the
 * same; only the encoding waits. A cancelled response answers 200 with what it had,
 * `status: "cancelled"` and `cancel_reason`; an error answers with its HTTP status.
 */
export class ResponsesJsonWriter extends BufferedReply implements EventWriter {
  // Renders no event text: only its Response object is wanted.
  private readonly encoder: ResponsesEncoder;

  constructor(
    res: ServerResponse,
    private readonly options: ResponsesWriterOptions,
  ) {
    super(res, options);
    this.encoder = new ResponsesEncoder(options.meta, { startingAfter: Infinity });
  }

  status(_event: StatusEvent): void {
    this.encoder.status();
  }

  token(text: string, _seq: number): boolean {
    if (this.keep(text)) this.encoder.token(text);
    return true;
  }

  reasoning(text: string, _seq: number): boolean {
    if (this.keep(text)) this.encoder.reasoning(text);
    return true;
  }

  toolCall(call: ToolCall, _index: number): boolean {
    this.encoder.toolCall(call);
    return true;
  }

  terminal(event: TerminalEvent): void {
    this.encoder.terminal(event);
    const response = this.encoder.response();
    this.options.onFinished?.(response);
    const res = this.res;
    if (this.gone) return;
    if (event.type === 'error') {
      writeHttpError(res, event, this.options, (body) => res.end(body));
      return;
    }
    writeStreamHead(res, 200, this.jsonHeaders());
    res.end(JSON.stringify(response));
  }
}
