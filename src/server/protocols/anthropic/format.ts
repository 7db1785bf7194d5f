import type { CancelReason, TerminalEvent, ToolCall } from '../../../shared/events.js';

// What Jarvis's outcomes look like in Anthropic's Messages format, shared by the SSE
// writer (`stream: true`) and the JSON writer; its errors are in errors.ts beside it.

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
}

/** `msg_<stream id>`: the stream's id can be followed at /v1/streams/{id}/events. */
export function messageId(streamId: string): string {
  return `msg_${streamId}`;
}

/**
 * `stop_reason` of a reply. An upstream says "stop" both for the model's own end and for
 * a stop sequence, without telling which: both are `end_turn` (docs/anthropic.md). A
 * cancelled reply ends `end_turn` too, its reason in `cancel_reason` beside it.
 */
export function stopReason(event: TerminalEvent): AnthropicStopReason | undefined {
  if (event.type === 'cancelled') return 'end_turn';
  if (event.type !== 'done') return undefined;
  switch (event.reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

export function cancelReason(event: TerminalEvent): CancelReason | undefined {
  return event.type === 'cancelled' ? event.reason : undefined;
}

export function usageOf(event: TerminalEvent, outputCount: number): AnthropicUsage {
  if (event.type === 'done') return { input_tokens: event.usage.prompt_tokens, output_tokens: event.usage.completion_tokens };
  return { input_tokens: 0, output_tokens: outputCount };
}

/** A tool call's arguments as the `input` object Anthropic sends; text that is not a JSON object is kept under `_raw`, not lost. */
export function toolInput(call: ToolCall): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(call.arguments === '' ? '{}' : call.arguments);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // falls through
  }
  return { _raw: call.arguments };
}

/** The `tool_use` content block of a call (`input` empty when it is streamed as input_json_delta). */
export function toolUseBlock(call: ToolCall, input: Record<string, unknown>): Record<string, unknown> {
  return { type: 'tool_use', id: call.id, name: call.name, input };
}
