import type { ServerResponse } from 'node:http';
import { BufferedReply } from '../bufferedReply.js';
import { limitFields, type StatusEvent, type TerminalEvent, type ToolCall } from '../../../shared/events.js';
import { errorOfEvent, retryHeaders } from '../../../shared/errors.js';
import type { EventWriter } from '../../../streams/eventWriter.js';
import { writeStreamHead } from '../../http/streamHead.js';
import { anthropicErrorBody } from './errors.js';
import { cancelReason, messageId, stopReason, toolInput, toolUseBlock, usageOf } from './format.js';
import type { MessagesWriterOptions } from './sseWriter.js';

type Block = { type: 'text'; text: string } | { type: 'thinking'; thinking: string; signature: string } | { type: 'tool_use'; call: ToolCall };

/**
 * Anthropic's Message object (`stream` false or absent): collects the reply's blocks in
 * the order they came and answers once, at the end. A cancelled reply answers 200 with
 * what it had, `stop_reason: "end_turn"` and `cancel_reason`; an error answers with its
 * HTTP status and Anthropic's error body.
 */
export class MessageJsonWriter extends BufferedReply implements EventWriter {
  private readonly blocks: Block[] = [];
  private outputs = 0;

  constructor(
    res: ServerResponse,
    private readonly options: MessagesWriterOptions,
  ) {
    super(res, options);
  }

  status(_event: StatusEvent): void {}

  token(text: string, _seq: number): boolean {
    if (!this.counted(text)) return true;
    const last = this.blocks.at(-1);
    if (last?.type === 'text') last.text += text;
    else this.blocks.push({ type: 'text', text });
    return true;
  }

  reasoning(text: string, _seq: number): boolean {
    if (!this.counted(text)) return true;
    const last = this.blocks.at(-1);
    if (last?.type === 'thinking') last.thinking += text;
    else this.blocks.push({ type: 'thinking', thinking: text, signature: '' });
    return true;
  }

  toolCall(call: ToolCall, _index: number): boolean {
    this.blocks.push({ type: 'tool_use', call });
    return true;
  }

  /** Counts what the reply holds and its outputs; false once it is full (the stream then ends it as `max_tokens`). */
  private counted(text: string): boolean {
    if (!this.keep(text)) return false;
    this.outputs++;
    return true;
  }

  terminal(event: TerminalEvent): void {
    const res = this.res;
    if (this.gone) return;
    const { streamId } = this.options;
    const headers = { ...this.jsonHeaders(), 'request-id': messageId(streamId) };
    if (event.type === 'error') {
      const error = errorOfEvent(event);
      writeStreamHead(res, error.status, { ...headers, ...retryHeaders(error.code) });
      res.end(JSON.stringify(anthropicErrorBody(error, messageId(streamId))));
      return;
    }
    const cancel = cancelReason(event);
    const content = this.blocks.map((b) => (b.type === 'tool_use' ? toolUseBlock(b.call, toolInput(b.call)) : b));
    writeStreamHead(res, 200, headers);
    res.end(
      JSON.stringify({
        id: messageId(streamId),
        type: 'message',
        role: 'assistant',
        model: this.options.model,
        content,
        stop_reason: stopReason(event),
        stop_sequence: null,
        ...(cancel ? { cancel_reason: cancel } : {}),
        ...limitFields(event),
        usage: usageOf(event, this.outputs),
      }),
    );
  }
}
