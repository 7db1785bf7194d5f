import type { ServerResponse } from 'node:http';
import { limitFields, type StatusEvent, type TerminalEvent, type ToolCall } from '../../../shared/events.js';
import { errorOfEvent, retryHeaders } from '../../../shared/errors.js';
import type { EventWriter } from '../../../streams/eventWriter.js';
import type { StreamTiming } from '../../../streams/streamTiming.js';
import { SERVER_TIMING, serverTimingValue, streamTimingHeaders } from '../../http/serverTiming.js';
import { writeStreamHead } from '../../http/streamHead.js';
import { ResponseWriter, streamHeaders } from '../responseWriter.js';
import { anthropicErrorBody, anthropicSseError } from './errors.js';
import { cancelReason, messageId, stopReason, toolInput, toolUseBlock, usageOf } from './format.js';

export interface MessagesWriterOptions {
  streamId: string;
  sessionId: string;
  /** The model named in the reply: the one the client asked for (docs/anthropic.md, "Model names"). */
  model: string;
  /** Past this many bytes of text the JSON reply is full (the SSE writer streams it all). */
  maxReplyBytes?: number;
  timing?: StreamTiming;
}

/** A `ping` after this long without output keeps proxies and clients from timing out an idle stream (a slow prompt, a long thought). */
const PING_EVERY_MS = 10_000;
const PING = 'event: ping\ndata: {"type":"ping"}\n\n';

const event = (name: string, data: string) => `event: ${name}\ndata: ${data}\n\n`;

/**
 * Anthropic's Messages stream (`stream: true`): message_start, a ping, then content
 * blocks (thinking, text, tool_use: each opened, given its deltas and closed),
 * message_delta with the stop reason and usage, message_stop.
 *
 * As the OpenAI writer does, the status line waits for the reply's first content: an
 * error before it is answered with its HTTP status and Anthropic's error body (the SDK
 * raises the matching error and retries only what it should). After it, an error is an
 * `event: error`, the stream's last.
 */
export class MessagesSseWriter extends ResponseWriter implements EventWriter {
  private opened = false;
  private blocks = 0;
  private open: 'text' | 'thinking' | undefined;
  /** The delta line of the open block up to its text: encoded once per block, not per token. */
  private deltaHead = '';
  private outputs = 0;
  private wrote = false;
  private pinger: NodeJS.Timeout | undefined;

  constructor(
    res: ServerResponse,
    private readonly options: MessagesWriterOptions,
  ) {
    super(res, options.timing);
  }

  private start(): void {
    if (this.opened || this.gone) return;
    this.opened = true;
    const { timing, sessionId, streamId } = this.options;
    writeStreamHead(this.res, 200, {
      ...streamHeaders('text/event-stream; charset=utf-8', sessionId, streamId),
      'request-id': messageId(streamId),
      ...(timing ? streamTimingHeaders(this.res, timing) : {}),
    });
    const message = {
      id: messageId(streamId),
      type: 'message',
      role: 'assistant',
      model: this.options.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    };
    this.write(event('message_start', JSON.stringify({ type: 'message_start', message })) + PING);
    this.pinger = setInterval(() => {
      if (!this.wrote) this.write(PING);
      this.wrote = false;
    }, PING_EVERY_MS);
    this.pinger.unref();
    this.res.once('close', () => clearInterval(this.pinger));
  }

  /** Opens a text or thinking block unless one of that kind is open. */
  private enter(kind: 'text' | 'thinking'): void {
    if (!this.opened) this.start();
    if (this.open === kind) return;
    this.leave();
    const index = this.blocks++;
    this.open = kind;
    const block = kind === 'text' ? '{"type":"text","text":""}' : '{"type":"thinking","thinking":"","signature":""}';
    this.write(event('content_block_start', `{"type":"content_block_start","index":${index},"content_block":${block}}`));
    const delta = kind === 'text' ? '"text_delta","text"' : '"thinking_delta","thinking"';
    this.deltaHead = `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":${delta}:`;
  }

  /** Closes the open block; a thinking block first gets its (empty) signature: Jarvis's upstreams sign nothing. */
  private leave(): void {
    if (this.open === undefined) return;
    const index = this.blocks - 1;
    if (this.open === 'thinking') this.write(event('content_block_delta', `{"type":"content_block_delta","index":${index},"delta":{"type":"signature_delta","signature":""}}`));
    this.write(event('content_block_stop', `{"type":"content_block_stop","index":${index}}`));
    this.open = undefined;
  }

  status(_event: StatusEvent): void {}

  token(text: string, _seq: number): boolean {
    this.enter('text');
    this.outputs++;
    this.wrote = true;
    return this.write(`${this.deltaHead}${JSON.stringify(text)}}}\n\n`);
  }

  reasoning(text: string, _seq: number): boolean {
    this.enter('thinking');
    this.outputs++;
    this.wrote = true;
    return this.write(`${this.deltaHead}${JSON.stringify(text)}}}\n\n`);
  }

  toolCall(call: ToolCall, _index: number): boolean {
    if (!this.opened) this.start();
    this.leave();
    const index = this.blocks++;
    this.wrote = true;
    const start = event('content_block_start', JSON.stringify({ type: 'content_block_start', index, content_block: toolUseBlock(call, {}) }));
    const delta = event('content_block_delta', JSON.stringify({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(toolInput(call)) } }));
    return this.write(start + delta + event('content_block_stop', `{"type":"content_block_stop","index":${index}}`));
  }

  terminal(terminal: TerminalEvent): void {
    clearInterval(this.pinger);
    if (this.gone) return;
    const { streamId, sessionId, timing } = this.options;
    if (terminal.type === 'error' && !this.opened) {
      const error = errorOfEvent(terminal);
      this.opened = true;
      writeStreamHead(this.res, error.status, {
        ...streamHeaders('application/json; charset=utf-8', sessionId, streamId),
        'cache-control': 'no-store',
        ...retryHeaders(error.code),
        ...(timing ? { [SERVER_TIMING]: serverTimingValue(timing, { total: true }) } : {}),
      });
      this.finish(JSON.stringify(anthropicErrorBody(error, messageId(streamId))));
      return;
    }
    if (!this.opened) this.start();
    this.leave();
    if (terminal.type === 'error') {
      this.finish(anthropicSseError(errorOfEvent(terminal), messageId(streamId)));
      return;
    }
    const cancel = cancelReason(terminal);
    const delta = { stop_reason: stopReason(terminal), stop_sequence: null, ...(cancel ? { cancel_reason: cancel } : {}), ...limitFields(terminal) };
    const usage = usageOf(terminal, this.outputs);
    this.finish(event('message_delta', JSON.stringify({ type: 'message_delta', delta, usage })) + event('message_stop', '{"type":"message_stop"}'));
  }
}
