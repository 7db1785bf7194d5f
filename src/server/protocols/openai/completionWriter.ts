import type { ServerResponse } from 'node:http';
import { SESSION_HEADER, STREAM_HEADER, type StatusEvent, type TerminalEvent, type ToolCall } from '../../../shared/events.js';
import type { EventWriter } from '../../../streams/eventWriter.js';
import type { StreamTiming } from '../../../streams/streamTiming.js';
import { errorOfEvent } from '../../../shared/errors.js';
import { SERVER_TIMING, serverTimingValue } from '../../serverTiming.js';
import { openaiErrorBody } from './errors.js';
import { completionId, finishReason, openaiToolCall, usageOf } from './format.js';
import { writeStreamHead } from '../../streamHead.js';

export interface CompletionOptions {
  streamId: string;
  sessionId: string;
  model: string;
  /** Past this many bytes of text the reply is full: the stream ends it with `finish_reason: length`. */
  maxReplyBytes?: number;
  timing?: StreamTiming;
}

/**
 * OpenAI-compatible `chat.completion` JSON (`stream` false or absent): collects the
 * reply and answers once, at the end. The stream's session rules are the same; only
 * the encoding waits. A cancelled reply answers 200 with what it had and the
 * cancel reason as `finish_reason`; a Jarvis error answers with its HTTP status.
 */
export class CompletionWriter implements EventWriter {
  private readonly parts: string[] = [];
  private readonly reasoningParts: string[] = [];
  private readonly toolCalls: ToolCall[] = [];
  private bytes = 0;
  full = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: CompletionOptions,
  ) {}

  status(_event: StatusEvent): void {}

  token(text: string, _seq: number): boolean {
    if (this.keep(text)) this.parts.push(text);
    return true;
  }

  reasoning(text: string, _seq: number): boolean {
    if (this.keep(text)) this.reasoningParts.push(text);
    return true;
  }

  /** Counts what the reply holds (text and reasoning alike); false once it is full. */
  private keep(text: string): boolean {
    if (this.full) return false;
    this.bytes += Buffer.byteLength(text);
    if (this.bytes >= (this.options.maxReplyBytes ?? Infinity)) this.full = true;
    return true;
  }

  toolCall(call: ToolCall, _index: number): boolean {
    this.toolCalls.push(call);
    return true;
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }

  terminal(event: TerminalEvent): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      [SESSION_HEADER]: this.options.sessionId,
      [STREAM_HEADER]: this.options.streamId,
    };
    if (this.options.timing) headers[SERVER_TIMING] = serverTimingValue(this.options.timing, { total: true });
    const finish = finishReason(event);
    if (finish === undefined && event.type === 'error') {
      const error = errorOfEvent(event);
      writeStreamHead(res, error.status, headers);
      res.end(JSON.stringify(openaiErrorBody(error)));
      return;
    }
    const text = this.parts.join('');
    const message: Record<string, unknown> = {
      role: 'assistant',
      // OpenAI's own answer to a reply that is only tool calls: no content at all.
      content: text === '' && this.toolCalls.length > 0 ? null : text,
      refusal: null,
    };
    if (this.reasoningParts.length > 0) message.reasoning_content = this.reasoningParts.join('');
    if (this.toolCalls.length > 0) message.tool_calls = this.toolCalls.map((call) => openaiToolCall(call));
    writeStreamHead(res, 200, headers);
    res.end(
      JSON.stringify({
        id: completionId(this.options.streamId),
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: this.options.model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
        usage: usageOf(event, this.parts.length),
      }),
    );
  }
}
