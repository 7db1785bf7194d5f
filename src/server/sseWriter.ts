import type { ServerResponse } from 'node:http';
import type { StatusEvent, TerminalEvent } from '../shared/events.js';
import type { EventWriter } from '../streams/eventWriter.js';
import { errorBody } from './errors.js';
import { completionId, errorStatus, finishReason, usageOf } from './openaiFormat.js';
import { ResponseWriter } from './responseWriter.js';

export interface SseOptions {
  streamId: string;
  model: string;
  includeUsage: boolean;
}

/**
 * OpenAI-compatible Server-Sent Events (`stream: true`): `chat.completion.chunk`
 * objects, a final chunk with `finish_reason`, optionally a usage chunk, then
 * `data: [DONE]`. A Jarvis error becomes an OpenAI error object in the stream.
 */
export class SseWriter extends ResponseWriter implements EventWriter {
  private readonly head: string;
  private readonly tokenHead: string;
  private tokens = 0;

  constructor(
    res: ServerResponse,
    private readonly options: SseOptions,
  ) {
    super(res);
    const created = Math.floor(Date.now() / 1000);
    this.head = `{"id":${JSON.stringify(completionId(options.streamId))},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(options.model)}`;
    // Token chunks differ only in their content: encode the rest once.
    this.tokenHead = `data: ${this.head},"choices":[{"index":0,"delta":{"content":`;
  }

  private chunk(rest: string): string {
    return `data: ${this.head},${rest}}\n\n`;
  }

  status(_event: StatusEvent): void {
    this.write(this.chunk('"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]'));
  }

  token(text: string, _seq: number): boolean {
    this.tokens++;
    return this.write(`${this.tokenHead}${JSON.stringify(text)}},"logprobs":null,"finish_reason":null}]}\n\n`);
  }

  terminal(event: TerminalEvent): void {
    let out = '';
    const finish = finishReason(event);
    if (finish !== undefined) {
      out += this.chunk(`"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":${JSON.stringify(finish)}}]`);
      if (this.options.includeUsage) out += this.chunk(`"choices":[],"usage":${JSON.stringify(usageOf(event, this.tokens))}`);
    } else if (event.type === 'error') {
      out += `data: ${JSON.stringify(errorBody(event.code, event.message, errorStatus(event.code)))}\n\n`;
    }
    this.finish(`${out}data: [DONE]\n\n`);
  }
}
