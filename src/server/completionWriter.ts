import type { ServerResponse } from 'node:http';
import { SESSION_HEADER, STREAM_HEADER, type StatusEvent, type TerminalEvent } from '../shared/events.js';
import type { EventWriter } from '../streams/eventWriter.js';
import { errorBody } from './errors.js';
import { completionId, errorStatus, finishReason, usageOf } from './openaiFormat.js';

export interface CompletionOptions {
  streamId: string;
  sessionId: string;
  model: string;
}

/**
 * OpenAI-compatible `chat.completion` JSON (`stream: false`): collects the reply
 * and answers once, at the end. The stream's session rules are the same; only
 * the encoding waits. A cancelled reply answers 200 with what it had and the
 * cancel reason as `finish_reason`; a Jarvis error answers with its HTTP status.
 */
export class CompletionWriter implements EventWriter {
  private readonly parts: string[] = [];

  constructor(
    private readonly res: ServerResponse,
    private readonly options: CompletionOptions,
  ) {}

  status(_event: StatusEvent): void {}

  token(text: string, _seq: number): boolean {
    this.parts.push(text);
    return true;
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }

  terminal(event: TerminalEvent): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      [SESSION_HEADER]: this.options.sessionId,
      [STREAM_HEADER]: this.options.streamId,
    };
    const finish = finishReason(event);
    if (finish === undefined && event.type === 'error') {
      res.writeHead(errorStatus(event.code), headers);
      res.end(JSON.stringify(errorBody(event.code, event.message, errorStatus(event.code))));
      return;
    }
    res.writeHead(200, headers);
    res.end(
      JSON.stringify({
        id: completionId(this.options.streamId),
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: this.options.model,
        choices: [{ index: 0, message: { role: 'assistant', content: this.parts.join('') }, logprobs: null, finish_reason: finish }],
        usage: usageOf(event, this.parts.length),
      }),
    );
  }
}
