import { limitFields, type CancelReason, type DoneEvent, type FinishReason, type TerminalEvent, type ToolCall } from '../../../shared/events.js';

// What Jarvis's outcomes look like in OpenAI's chat-completions format, shared by
// the SSE writer (`stream: true`) and the JSON writer (`stream: false`); its errors
// are in errors.ts beside it.

/**
 * `finish_reason` of a reply: always one of OpenAI's own (`stop`, `length`,
 * `tool_calls`, `content_filter`), which every OpenAI client parses. A reply that
 * Jarvis cancelled ends with `stop` and says why in a field of its own on the
 * choice, `cancel_reason` (`superseded`, `stopped`, `client_closed`, `shutdown`, `revoked`):
 * clients that do not know it ignore it (docs/api.md#sessions).
 */
export type OpenAIFinishReason = FinishReason;

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
  if (event.type === 'cancelled') return 'stop';
  return undefined;
}

/**
 * The choice's ending: `finish_reason`, `cancel_reason` for a reply Jarvis cancelled, and
 * `limit`/`limit_message` for a `length` end at a key's limit (docs/team.md "Usage and limits").
 */
export function choiceEnd(event: TerminalEvent): ({ finish_reason: OpenAIFinishReason; cancel_reason?: CancelReason } & Pick<DoneEvent, 'limit' | 'limit_message'>) | undefined {
  const finish = finishReason(event);
  if (finish === undefined) return undefined;
  return event.type === 'cancelled' ? { finish_reason: finish, cancel_reason: event.reason } : { finish_reason: finish, ...limitFields(event) };
}

export function usageOf(event: TerminalEvent, completionTokens: number): OpenAIUsage {
  const prompt = event.type === 'done' ? event.usage.prompt_tokens : 0;
  const completion = event.type === 'done' ? event.usage.completion_tokens : completionTokens;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function openaiToolCall(call: ToolCall, index?: number): OpenAIToolCall {
  return { ...(index === undefined ? {} : { index }), id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } };
}
