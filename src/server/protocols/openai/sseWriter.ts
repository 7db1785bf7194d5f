import type { ServerResponse } from 'node:http';
import type { StatusEvent, TerminalEvent, ToolCall } from '../../../shared/events.js';
import type { EventWriter } from '../../../streams/eventWriter.js';
import { errorOfEvent } from '../../../shared/errors.js';
import type { StreamTiming } from '../../../streams/streamTiming.js';
import { ResponseWriter, streamHeaders } from '../../responseWriter.js';
import { SERVER_TIMING, serverTimingValue, streamTimingHeaders } from '../../serverTiming.js';
import { openaiErrorBody, openaiSseError } from './errors.js';
import { completionId, finishReason, openaiToolCall, usageOf } from './format.js';
import { writeStreamHead } from '../../streamHead.js';

export interface SseOptions {
  streamId: string;
  sessionId: string;
  model: string;
  includeUsage: boolean;
  timing?: StreamTiming;
}

/**
 * OpenAI-compatible Server-Sent Events (`stream: true`): `chat.completion.chunk`
 * objects, a final chunk with `finish_reason`, optionally a usage chunk, then
 * `data: [DONE]`.
 *
 * The status line (200) waits for the reply's first content: an error before it
 * (the upstream refusing the request, a missing model, a timeout) is answered with
 * its own HTTP status and error body, as the OpenAI API does, so SDKs raise the
 * right error and do not retry a 4xx. After it, an error is an error chunk.
 */
export class SseWriter extends ResponseWriter implements EventWriter {
  private readonly head: string;
  private readonly tokenHead: string;
  private readonly reasoningHead: string;
  private tokens = 0;
  private opened = false;

  constructor(
    res: ServerResponse,
    private readonly options: SseOptions,
  ) {
    super(res, options.timing);
    const created = Math.floor(Date.now() / 1000);
    this.head = `{"id":${JSON.stringify(completionId(options.streamId))},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(options.model)}`;
    // Token chunks differ only in their content: encode the rest once.
    this.tokenHead = `data: ${this.head},"choices":[{"index":0,"delta":{"content":`;
    this.reasoningHead = `data: ${this.head},"choices":[{"index":0,"delta":{"reasoning_content":`;
  }

  private chunk(rest: string): string {
    return `data: ${this.head},${rest}}\n\n`;
  }

  /** Sends the status line and the role chunk, once, before the first content. */
  private open(): void {
    if (this.opened || this.gone) return;
    this.opened = true;
    const timing = this.options.timing;
    writeStreamHead(this.res, 200, {
      ...streamHeaders('text/event-stream; charset=utf-8', this.options.sessionId, this.options.streamId),
      ...(timing ? streamTimingHeaders(this.res, timing) : {}),
    });
    this.write(this.chunk('"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]'));
  }

  status(_event: StatusEvent): void {}

  token(text: string, _seq: number): boolean {
    if (!this.opened) this.open();
    this.tokens++;
    return this.write(`${this.tokenHead}${JSON.stringify(text)}},"logprobs":null,"finish_reason":null}]}\n\n`);
  }

  reasoning(text: string, _seq: number): boolean {
    if (!this.opened) this.open();
    return this.write(`${this.reasoningHead}${JSON.stringify(text)}},"logprobs":null,"finish_reason":null}]}\n\n`);
  }

  toolCall(call: ToolCall, index: number): boolean {
    if (!this.opened) this.open();
    return this.write(this.chunk(`"choices":[{"index":0,"delta":{"tool_calls":[${JSON.stringify(openaiToolCall(call, index))}]},"logprobs":null,"finish_reason":null}]`));
  }

  terminal(event: TerminalEvent): void {
    if (this.gone) return;
    const finish = finishReason(event);
    if (event.type === 'error' && !this.opened) {
      const error = errorOfEvent(event);
      this.opened = true;
      const timing = this.options.timing;
      writeStreamHead(this.res, error.status, {
        ...streamHeaders('application/json; charset=utf-8', this.options.sessionId, this.options.streamId),
        'cache-control': 'no-store',
        ...(timing ? { [SERVER_TIMING]: serverTimingValue(timing, { total: true }) } : {}),
      });
      this.finish(JSON.stringify(openaiErrorBody(error)));
      return;
    }
    this.open();
    let out = '';
    if (finish !== undefined) {
      out += this.chunk(`"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":${JSON.stringify(finish)}}]`);
      if (this.options.includeUsage) out += this.chunk(`"choices":[],"usage":${JSON.stringify(usageOf(event, this.tokens))}`);
    } else if (event.type === 'error') {
      out += openaiSseError(errorOfEvent(event));
    }
    this.finish(`${out}data: [DONE]\n\n`);
  }
}
