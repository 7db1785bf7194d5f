import type { ServerResponse } from 'node:http';
import { BufferedReply } from '../bufferedReply.js';
import { limitFields, type CancelReason, type DoneEvent, type FinishReason, type StatusEvent, type TerminalEvent, type ToolCall } from '../../../shared/events.js';
import { errorOfEvent, retryHeaders } from '../../../shared/errors.js';
import type { EventWriter } from '../../../streams/eventWriter.js';
import type { StreamTiming } from '../../../streams/streamTiming.js';
import { SERVER_TIMING, serverTimingValue, streamTimingHeaders } from '../../http/serverTiming.js';
import { writeStreamHead } from '../../http/streamHead.js';
import { openaiErrorBody, openaiSseError } from '../openai/errors.js';
import { usageOf } from '../openai/format.js';
import { ResponseWriter, streamHeaders } from '../responseWriter.js';

// OpenAI's `text_completion` objects (docs/completions.md): streamed as SSE chunks
// of `choices[{text, index, logprobs, finish_reason}]` then `data: [DONE]`, or one
// JSON object. A cancelled completion ends `finish_reason: "stop"`, a value every
// OpenAI client knows, with Jarvis's reason beside it in `cancel_reason`.

export interface TextCompletionOptions {
  streamId: string;
  sessionId: string;
  model: string;
  /** `echo`: the prompt, written before the completion. */
  echo?: string;
  includeUsage: boolean;
  /** What a JSON reply may accumulate (JARVIS_MAX_REPLY_BYTES). */
  maxReplyBytes?: number;
  timing?: StreamTiming;
}

/** The end of a choice: its `finish_reason`, `cancel_reason` when Jarvis cancelled it, `limit` at a key's limit; undefined for an error. */
function ending(event: TerminalEvent): ({ finish_reason: FinishReason; cancel_reason?: CancelReason } & Pick<DoneEvent, 'limit' | 'limit_message'>) | undefined {
  if (event.type === 'done') return { finish_reason: event.reason, ...limitFields(event) };
  if (event.type === 'cancelled') return { finish_reason: 'stop', cancel_reason: event.reason };
  return undefined;
}

export function textCompletionId(streamId: string): string {
  return `cmpl-${streamId}`;
}

/** The error answer of a stream that had not begun: its own status and OpenAI's error body. */
function writeError(res: ServerResponse, event: TerminalEvent & { type: 'error' }, headers: Record<string, string>): void {
  const error = errorOfEvent(event);
  writeStreamHead(res, error.status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...retryHeaders(error.code) });
  res.end(JSON.stringify(openaiErrorBody(error)));
}

/** `stream: true`: the status line waits for the first text, so an error before it keeps its HTTP status (as SseWriter does). */
export class TextCompletionSseWriter extends ResponseWriter implements EventWriter {
  private readonly head: string;
  private readonly tokenHead: string;
  private tokens = 0;
  private opened = false;

  constructor(
    res: ServerResponse,
    private readonly options: TextCompletionOptions,
  ) {
    super(res, options.timing);
    this.head = `{"id":${JSON.stringify(textCompletionId(options.streamId))},"object":"text_completion","created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(options.model)}`;
    this.tokenHead = `data: ${this.head},"choices":[{"text":`;
  }

  private open(): void {
    if (this.opened || this.gone) return;
    this.opened = true;
    const timing = this.options.timing;
    writeStreamHead(this.res, 200, {
      ...streamHeaders('text/event-stream; charset=utf-8', this.options.sessionId, this.options.streamId),
      ...(timing ? streamTimingHeaders(this.res, timing) : {}),
    });
    if (this.options.echo) this.write(this.textChunk(this.options.echo));
  }

  private textChunk(text: string): string {
    return `${this.tokenHead}${JSON.stringify(text)},"index":0,"logprobs":null,"finish_reason":null}]}\n\n`;
  }

  status(_event: StatusEvent): void {}

  token(text: string, _seq: number): boolean {
    if (!this.opened) this.open();
    this.tokens++;
    return this.write(this.textChunk(text));
  }

  /** A text completion has no reasoning part: a thinking model's thoughts are left out. */
  reasoning(_text: string, _seq: number): boolean {
    return true;
  }

  toolCall(_call: ToolCall, _index: number): boolean {
    return true;
  }

  terminal(event: TerminalEvent): void {
    if (this.gone) return;
    if (event.type === 'error' && !this.opened) {
      this.opened = true;
      const timing = this.options.timing;
      writeError(this.res, event, {
        ...streamHeaders('application/json; charset=utf-8', this.options.sessionId, this.options.streamId),
        ...(timing ? { [SERVER_TIMING]: serverTimingValue(timing, { total: true }) } : {}),
      });
      return;
    }
    this.open();
    const end = ending(event);
    let out = '';
    if (end) {
      out += `data: ${this.head},"choices":[${JSON.stringify({ text: '', index: 0, logprobs: null, ...end })}]}\n\n`;
      if (this.options.includeUsage) out += `data: ${this.head},"choices":[],"usage":${JSON.stringify(usageOf(event, this.tokens))}}\n\n`;
    } else if (event.type === 'error') out += openaiSseError(errorOfEvent(event));
    this.finish(`${out}data: [DONE]\n\n`);
  }
}

/** `stream` false or absent: the completion collected and sent as one `text_completion` object with its usage. */
export class TextCompletionJsonWriter extends BufferedReply implements EventWriter {
  private readonly parts: string[] = [];

  constructor(
    res: ServerResponse,
    private readonly options: TextCompletionOptions,
  ) {
    super(res, options);
  }

  status(_event: StatusEvent): void {}

  token(text: string, _seq: number): boolean {
    if (!this.keep(text)) return false;
    this.parts.push(text);
    return true;
  }

  reasoning(_text: string, _seq: number): boolean {
    return true;
  }

  toolCall(_call: ToolCall, _index: number): boolean {
    return true;
  }

  terminal(event: TerminalEvent): void {
    const res = this.res;
    if (this.gone) return;
    const headers = this.jsonHeaders();
    const end = ending(event);
    if (!end) return writeError(res, event as TerminalEvent & { type: 'error' }, headers);
    writeStreamHead(res, 200, headers);
    res.end(
      JSON.stringify({
        id: textCompletionId(this.options.streamId),
        object: 'text_completion',
        created: Math.floor(Date.now() / 1000),
        model: this.options.model,
        choices: [{ text: (this.options.echo ?? '') + this.parts.join(''), index: 0, logprobs: null, ...end }],
        usage: usageOf(event, this.parts.length),
      }),
    );
  }
}
