import type { CancelReason, ErrorCode, TerminalEvent } from '../shared/events.js';

// What Jarvis's outcomes look like in OpenAI's chat-completions format, shared by
// the SSE writer (`stream: true`) and the JSON writer (`stream: false`).

/**
 * `finish_reason` of a reply: OpenAI's `stop` / `length`, or, for a stream that
 * Jarvis cancelled, the cancel reason itself (`superseded`, `stopped`,
 * `client_closed`, `shutdown`), so a client can tell why the reply ended early.
 */
export type OpenAIFinishReason = 'stop' | 'length' | CancelReason;

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
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

const ERROR_STATUS: Record<ErrorCode, number> = {
  upstream_unavailable: 502,
  upstream_error: 502,
  model_not_found: 404,
  no_model: 400,
  timeout: 504,
  internal_error: 500,
};

export function errorStatus(code: ErrorCode): number {
  return ERROR_STATUS[code];
}
