import type { CancelReason, DoneEvent } from '../../../shared/events.js';

// The OpenAI Responses API's objects as Jarvis writes them (docs/responses.md): the
// Response, its output items and their parts. Only what Jarvis produces is typed here;
// the events are built as text by the encoder (encoder.ts).

export type ResponseStatus = 'queued' | 'in_progress' | 'completed' | 'incomplete' | 'failed' | 'cancelled';

export interface OutputText {
  type: 'output_text';
  text: string;
  annotations: unknown[];
  logprobs: unknown[];
}

export interface MessageItem {
  id: string;
  type: 'message';
  status: 'in_progress' | 'completed' | 'incomplete';
  role: 'assistant';
  content: OutputText[];
}

export interface SummaryText {
  type: 'summary_text';
  text: string;
}

/** The model's thinking, given as one summary part (what the AI SDK and the openai package read: docs/responses.md). */
export interface ReasoningItem {
  id: string;
  type: 'reasoning';
  summary: SummaryText[];
}

export interface FunctionCallItem {
  id: string;
  type: 'function_call';
  status: 'in_progress' | 'completed' | 'incomplete';
  arguments: string;
  call_id: string;
  name: string;
}

export type OutputItem = MessageItem | ReasoningItem | FunctionCallItem;

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/**
 * The request's fields a Response repeats back (OpenAI echoes them in every Response
 * object). The route fills them from the request; a stored response keeps them, so a
 * replay through the encoder writes the same bytes.
 */
export interface ResponseEcho {
  instructions: string | null;
  max_output_tokens: number | null;
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: string | null; summary: string | null };
  store: boolean;
  background: boolean;
  temperature: number | null;
  text: { format: Record<string, unknown> };
  tool_choice: unknown;
  tools: unknown[];
  top_p: number | null;
  truncation: 'auto' | 'disabled';
  metadata: Record<string, string>;
}

/** What a response is before its events: fixed when the request is admitted. */
export interface ResponseMeta {
  /** `resp_…` (responseIdOf). */
  id: string;
  /** Unix seconds, taken once when the request came. */
  created_at: number;
  model: string;
  echo: ResponseEcho;
}

export interface ResponseObject extends ResponseEcho {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
  model: string;
  output: OutputItem[];
  usage: ResponseUsage | null;
  /** Jarvis's reason, present only when the response was cancelled (status `cancelled`). */
  cancel_reason?: CancelReason;
  /** Jarvis's, present only for a response cut at a key's limit (`incomplete`, max_output_tokens): which, in words. */
  limit?: DoneEvent['limit'];
  limit_message?: string;
}

/** The response id of a stream: derived, so any instance can name it from the stream id alone. */
export function responseIdOf(streamId: string): string {
  return `resp_${streamId}`;
}

/** The stream id inside a response id, or undefined when `id` is not one Jarvis makes. */
export function streamIdOf(responseId: string): string | undefined {
  return responseId.startsWith('resp_') && responseId.length > 5 ? responseId.slice(5) : undefined;
}

export type ItemPrefix = 'msg' | 'rs' | 'fc';

/** An output item's id: its kind, the response's stream id and its output index (`msg_<stream id>_1`), the same on every replay. */
export function itemIdOf(prefix: ItemPrefix, responseId: string, index: number): string {
  const base = responseId.startsWith('resp_') ? responseId.slice(5) : responseId;
  return `${prefix}_${base}_${index}`;
}

/** The response and output index an item id names (what an `item_reference` points at), or undefined when Jarvis made no such id. */
export function parseItemId(id: string): { prefix: ItemPrefix; responseId: string; index: number } | undefined {
  const match = /^(msg|rs|fc)_(.+)_(\d{1,6})$/.exec(id);
  if (!match) return undefined;
  return { prefix: match[1] as ItemPrefix, responseId: `resp_${match[2]}`, index: Number(match[3]) };
}
