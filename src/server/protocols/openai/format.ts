import type { CancelReason, FinishReason, TerminalEvent, ToolCall } from '../../../shared/events.js';

// What Jarvis's outcomes look like in OpenAI's chat-completions format, shared by
// the SSE writer (`stream: true`) and the JSON writer (`stream: false`); its errors
// are in errors.ts beside it.

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
