/**
 * The Responses event encoder: Jarvis's events of one stream, in order, become the
 * OpenAI Responses streaming events (docs/responses.md), as SSE text
 * (`event: <type>\ndata: <json>\n\n`), with `sequence_number` counted from 0.
 *
 * How to feed it: `new ResponsesEncoder(meta)` with the response's fixed metadata
 * (id, created_at, model, the request's echoed fields: types.ts ResponseMeta), then
 * each Jarvis event in the order of the stream — `push(event)`, or the typed calls
 * (`status`, `token`, `reasoning`, `toolCall`, `terminal`) that the live writer uses
 * to avoid building an event object per token. Each call returns the SSE text of the
 * events it produced ('' when none). `response()` is the Response object so far (the
 * final one once `terminal` has been fed): the JSON answer, the `response.completed`
 * payload, what a store keeps.
 *
 * It is a pure function of (meta, events): no clock, no randomness. Item ids
 * (`rs_…`, `msg_…`, `fc_…`) come from the response id and the item's output index, so
 * replaying a stored stream's events through a new encoder writes byte-identical text
 * with the same sequence numbers and ids. `startingAfter: N` renders only the events
 * whose sequence_number is greater than N (the state still advances), which is how
 * `GET /v1/responses/{id}?stream=true&starting_after=N` resumes; `startingAfter:
 * Infinity` renders nothing (a JSON answer needs only `response()`).
 *
 * Jarvis's first `status` event opens the response (`response.created`,
 * `response.in_progress`); later ones (`loading_model`) add nothing. An event before
 * any status opens it too.
 */

import { limitFields, type JarvisEvent, type TerminalEvent, type ToolCall } from '../../../shared/events.js';
import { itemIdOf, type FunctionCallItem, type MessageItem, type OutputItem, type ReasoningItem, type ResponseMeta, type ResponseObject, type ResponseStatus } from './types.js';

export interface EncoderOptions {
  /** Render only events whose sequence_number is above this (default: render all). */
  startingAfter?: number;
}

const q = JSON.stringify;

/** The item being streamed: its kind, its text so far, and its delta's constant head. */
interface OpenItem {
  item: MessageItem | ReasoningItem;
  index: number;
  parts: string[];
  /** `event: …\ndata: {…,"delta":` for this item: a delta is this, the text, and a tail. */
  deltaHead: string;
}

export class ResponsesEncoder {
  private seq = 0;
  private readonly after: number;
  private readonly output: OutputItem[] = [];
  private open: OpenItem | undefined;
  private started = false;
  private final: ResponseObject | undefined;

  constructor(
    private readonly meta: ResponseMeta,
    options: EncoderOptions = {},
  ) {
    this.after = options.startingAfter ?? -1;
  }

  /** The sequence number the next event will carry (= how many were produced). */
  get nextSequence(): number {
    return this.seq;
  }

  /** True once a terminal event has been fed. */
  get ended(): boolean {
    return this.final !== undefined;
  }

  push(event: JarvisEvent): string {
    switch (event.type) {
      case 'status':
        return this.status();
      case 'token':
        return this.token(event.text);
      case 'reasoning':
        return this.reasoning(event.text);
      case 'tool_call':
        return this.toolCall(event);
      default:
        return this.terminal(event);
    }
  }

  status(): string {
    if (this.started) return '';
    this.started = true;
    const response = q(this.snapshot('in_progress'));
    return this.emit('response.created', `"response":${response}`) + this.emit('response.in_progress', `"response":${response}`);
  }

  token(text: string): string {
    let out = this.open?.item.type === 'message' ? '' : this.openItem('message');
    const open = this.open as OpenItem;
    open.parts.push(text);
    const n = this.seq++;
    if (n <= this.after) return out;
    out += `${open.deltaHead}${q(text)},"logprobs":[],"sequence_number":${n}}\n\n`;
    return out;
  }

  reasoning(text: string): string {
    let out = this.open?.item.type === 'reasoning' ? '' : this.openItem('reasoning');
    const open = this.open as OpenItem;
    open.parts.push(text);
    const n = this.seq++;
    if (n <= this.after) return out;
    out += `${open.deltaHead}${q(text)},"sequence_number":${n}}\n\n`;
    return out;
  }

  toolCall(call: ToolCall): string {
    let out = this.status() + this.closeItem('completed');
    const index = this.output.length;
    const id = itemIdOf('fc', this.meta.id, index);
    const item: FunctionCallItem = { id, type: 'function_call', status: 'in_progress', arguments: '', call_id: call.id, name: call.name };
    this.output.push(item);
    out += this.emit('response.output_item.added', `"output_index":${index},"item":${q(item)}`);
    const at = `"item_id":${q(id)},"output_index":${index}`;
    out += this.emit('response.function_call_arguments.delta', `${at},"delta":${q(call.arguments)}`);
    out += this.emit('response.function_call_arguments.done', `${at},"name":${q(call.name)},"arguments":${q(call.arguments)}`);
    item.arguments = call.arguments;
    item.status = 'completed';
    out += this.emit('response.output_item.done', `"output_index":${index},"item":${q(item)}`);
    return out;
  }

  terminal(event: TerminalEvent): string {
    if (this.final) return '';
    let out = this.status();
    const completed = event.type === 'done' && (event.reason === 'stop' || event.reason === 'tool_calls');
    out += this.closeItem(completed ? 'completed' : 'incomplete');
    let status: ResponseStatus;
    const response = this.snapshot('in_progress');
    if (event.type === 'done') {
      const input = event.usage.prompt_tokens;
      const output = event.usage.completion_tokens;
      response.usage = { input_tokens: input, input_tokens_details: { cached_tokens: 0 }, output_tokens: output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: input + output };
      if (completed) status = 'completed';
      else {
        status = 'incomplete';
        response.incomplete_details = { reason: event.reason === 'length' ? 'max_output_tokens' : 'content_filter' };
        Object.assign(response, limitFields(event));
      }
    } else if (event.type === 'cancelled') {
      // OpenAI's own word for a stopped response; the stream ends with `response.incomplete`,
      // the terminal event every client reads as a normal end (docs/responses.md "Cancelled").
      status = 'cancelled';
      response.cancel_reason = event.reason;
    } else {
      status = 'failed';
      response.error = { code: event.code, message: event.message };
      const detail = event.detail ? `,"detail":${q(event.detail)}` : '';
      out += this.emit('error', `"code":${q(event.code)},"message":${q(event.message)},"param":null${detail}`);
    }
    response.status = status;
    this.final = response;
    const type = status === 'completed' ? 'response.completed' : status === 'failed' ? 'response.failed' : 'response.incomplete';
    out += this.emit(type, `"response":${q(response)}`);
    return out;
  }

  /** The Response object: final once `terminal` was fed, else as it stands (status `in_progress`). */
  response(): ResponseObject {
    return this.final ?? this.snapshot('in_progress');
  }

  private snapshot(status: ResponseStatus): ResponseObject {
    const { meta } = this;
    const e = meta.echo;
    return {
      id: meta.id,
      object: 'response',
      created_at: meta.created_at,
      status,
      background: e.background,
      error: null,
      incomplete_details: null,
      instructions: e.instructions,
      max_output_tokens: e.max_output_tokens,
      model: meta.model,
      output: this.output.map((item) => this.copyItem(item)),
      parallel_tool_calls: e.parallel_tool_calls,
      previous_response_id: e.previous_response_id,
      reasoning: e.reasoning,
      store: e.store,
      temperature: e.temperature,
      text: e.text,
      tool_choice: e.tool_choice,
      tools: e.tools,
      top_p: e.top_p,
      truncation: e.truncation,
      usage: null,
      metadata: e.metadata,
    };
  }

  /** An item as it stands, the open one with its text so far (a snapshot must not change after it is taken). */
  private copyItem(item: OutputItem): OutputItem {
    const open = this.open?.item === item ? this.open.parts.join('') : undefined;
    if (item.type === 'message') {
      const content = open === undefined ? item.content.map((c) => ({ ...c })) : [{ type: 'output_text' as const, text: open, annotations: [], logprobs: [] }];
      return { ...item, content };
    }
    if (item.type === 'reasoning') return { ...item, summary: open === undefined ? item.summary.map((s) => ({ ...s })) : [{ type: 'summary_text', text: open }] };
    return { ...item };
  }

  /** One event: its sequence number is taken whether or not it is rendered. */
  private emit(type: string, fields: string): string {
    const n = this.seq++;
    if (n <= this.after) return '';
    return `event: ${type}\ndata: {"type":${q(type)},"sequence_number":${n},${fields}}\n\n`;
  }

  private openItem(kind: 'message' | 'reasoning'): string {
    let out = this.status() + this.closeItem('completed');
    const index = this.output.length;
    const at = (id: string) => `"item_id":${q(id)},"output_index":${index}`;
    if (kind === 'message') {
      const id = itemIdOf('msg', this.meta.id, index);
      const item: MessageItem = { id, type: 'message', status: 'in_progress', role: 'assistant', content: [] };
      this.output.push(item);
      out += this.emit('response.output_item.added', `"output_index":${index},"item":${q(item)}`);
      const part = { type: 'output_text', text: '', annotations: [], logprobs: [] };
      out += this.emit('response.content_part.added', `${at(id)},"content_index":0,"part":${q(part)}`);
      const deltaHead = `event: response.output_text.delta\ndata: {"type":"response.output_text.delta",${at(id)},"content_index":0,"delta":`;
      this.open = { item, index, parts: [], deltaHead };
    } else {
      const id = itemIdOf('rs', this.meta.id, index);
      const item: ReasoningItem = { id, type: 'reasoning', summary: [] };
      this.output.push(item);
      out += this.emit('response.output_item.added', `"output_index":${index},"item":${q(item)}`);
      out += this.emit('response.reasoning_summary_part.added', `${at(id)},"summary_index":0,"part":{"type":"summary_text","text":""}`);
      const deltaHead = `event: response.reasoning_summary_text.delta\ndata: {"type":"response.reasoning_summary_text.delta",${at(id)},"summary_index":0,"delta":`;
      this.open = { item, index, parts: [], deltaHead };
    }
    return out;
  }

  /** Ends the item being streamed, if any: its done events, with its whole text. */
  private closeItem(status: 'completed' | 'incomplete'): string {
    const open = this.open;
    if (!open) return '';
    this.open = undefined;
    const text = open.parts.join('');
    const { item, index } = open;
    const at = `"item_id":${q(item.id)},"output_index":${index}`;
    let out = '';
    if (item.type === 'message') {
      const part = { type: 'output_text' as const, text, annotations: [], logprobs: [] };
      out += this.emit('response.output_text.done', `${at},"content_index":0,"text":${q(text)},"logprobs":[]`);
      out += this.emit('response.content_part.done', `${at},"content_index":0,"part":${q(part)}`);
      item.content = [part];
      item.status = status;
    } else {
      const part = { type: 'summary_text' as const, text };
      out += this.emit('response.reasoning_summary_text.done', `${at},"summary_index":0,"text":${q(text)}`);
      out += this.emit('response.reasoning_summary_part.done', `${at},"summary_index":0,"part":${q(part)}`);
      item.summary = [part];
    }
    out += this.emit('response.output_item.done', `"output_index":${index},"item":${q(item)}`);
    return out;
  }
}


/** The whole SSE text of a stream's events: the encoder in one call (tests, and a replay from the start). */
export function encodeResponseEvents(meta: ResponseMeta, events: Iterable<JarvisEvent>, options: EncoderOptions = {}): string {
  const encoder = new ResponsesEncoder(meta, options);
  let out = '';
  for (const event of events) out += encoder.push(event);
  return out;
}
