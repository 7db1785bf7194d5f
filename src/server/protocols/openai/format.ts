import type { CancelReason, ErrorCode, ErrorEvent, FinishReason, TerminalEvent, ToolCall } from '../../../shared/events.js';

// What Jarvis's outcomes look like in OpenAI's chat-completions format, shared by
// the SSE writer (`stream: true`) and the JSON writer (`stream: false`).

/**
 * `finish_reason` of a reply: OpenAI's own (`stop`, `length`, `tool_calls`,
 * `content_filter`), or, for a stream that Jarvis cancelled, the cancel reason
 * itself (`superseded`, `stopped`, `client_closed`, `shutdown`), so a client can
 * tell why the reply ended early.
 */
export type OpenAIFinishReason = FinishReason | CancelReason;

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** A tool call as OpenAI writes it in a message and (with `index`) in a streamed delta. */
export interface OpenAIToolCall {
  index?: number;
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export function completionId(streamId: string): string {
  return `chatcmpl-${streamId}`;
}

export function finishReason(event: TerminalEvent): OpenAIFinishReason | undefined {
  if (event.type === 'done') return event.reason;
  if (event.type === 'cancelled') return event.reason;
  return undefined;
}

export function usageOf(event: TerminalEvent, completionTokens: number): OpenAIUsage {
  const prompt = event.type === 'done' ? event.usage.prompt_tokens : 0;
  const completion = event.type === 'done' ? event.usage.completion_tokens : completionTokens;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function openaiToolCall(call: ToolCall, index?: number): OpenAIToolCall {
  return { ...(index === undefined ? {} : { index }), id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } };
}

const ERROR_STATUS: Record<ErrorCode, number> = {
  upstream_unavailable: 502,
  upstream_error: 502,
  upstream_rejected: 400,
  invalid_request: 400,
  model_not_found: 404,
  no_model: 400,
  timeout: 504,
  unsupported: 501,
  internal_error: 500,
  cluster_unavailable: 503,
  lost: 502,
  answer_log_lost: 502,
};

/** The HTTP status of an error: the upstream's own 4xx when it refused the request, so SDKs do not retry it. */
export function errorStatus(event: Pick<ErrorEvent, 'code' | 'status'>): number {
  return event.status ?? ERROR_STATUS[event.code];
}
