// The body of `POST /v1/messages` (and `/v1/messages/count_tokens`) as Anthropic's clients
// send it (docs/anthropic.md). The JSON schema checks only the outer shapes; request.ts
// reads the blocks and answers a 400 in words for what it cannot serve. Fields that are
// not listed (cache_control, citations, service_tier…) are accepted and ignored.

export interface AnthropicTextBlock {
  type: 'text';
  text: string;
}

export type AnthropicImageSource = { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string } | { type: string; [key: string]: unknown };

/** One content block of a message; `type` decides which of the other fields it has. */
export interface AnthropicBlock {
  type: string;
  text?: unknown;
  source?: AnthropicImageSource;
  id?: unknown;
  name?: unknown;
  input?: unknown;
  tool_use_id?: unknown;
  content?: unknown;
  is_error?: unknown;
  [key: string]: unknown;
}

export interface AnthropicMessage {
  role: 'user' | 'assistant' | 'system';
  content: string | AnthropicBlock[];
}

export interface AnthropicTool {
  /** Absent or `custom` for a client tool; a dated type (`web_search_20250305`…) for a server tool. */
  type?: string | null;
  name: string;
  description?: string;
  input_schema?: Record<string, unknown>;
  [key: string]: unknown;
}

export type AnthropicToolChoice =
  | { type: 'auto'; disable_parallel_tool_use?: boolean }
  | { type: 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

export type AnthropicThinking = { type: 'enabled'; budget_tokens?: number } | { type: 'disabled' } | { type: 'adaptive' } | { type: string };

export interface AnthropicMessagesBody {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: string | AnthropicBlock[] | null;
  tools?: AnthropicTool[] | null;
  tool_choice?: AnthropicToolChoice | null;
  thinking?: AnthropicThinking | null;
  /** Newer SDKs' effort knob: low/medium/high → Jarvis's think level. */
  output_config?: { effort?: string | null } | null;
  stop_sequences?: string[] | null;
  temperature?: number | null;
  top_p?: number | null;
  top_k?: number | null;
  metadata?: { user_id?: string | null } | null;
  stream?: boolean | null;
}

const orNull = (type: string) => [type, 'null'];

/** Shapes only: what is required, and every block's meaning, is checked in request.ts with words a person reads. */
export const messagesBodySchema = {
  type: 'object',
  properties: {
    model: { type: 'string', maxLength: 512 },
    max_tokens: { type: 'integer', minimum: 1 },
    messages: {
      type: 'array',
      maxItems: 100_000,
      items: {
        type: 'object',
        required: ['role', 'content'],
        properties: { role: { enum: ['user', 'assistant', 'system'] }, content: { type: ['string', 'array'], items: { type: 'object', required: ['type'] } } },
      },
    },
    system: { type: ['string', 'array', 'null'], items: { type: 'object', required: ['type'] } },
    tools: { type: orNull('array'), maxItems: 512, items: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 256 } } } },
    tool_choice: { type: orNull('object'), required: ['type'] },
    thinking: { type: orNull('object'), required: ['type'] },
    output_config: { type: orNull('object') },
    stop_sequences: { type: orNull('array'), maxItems: 16, items: { type: 'string' } },
    temperature: { type: orNull('number'), minimum: 0 },
    top_p: { type: orNull('number'), minimum: 0, maximum: 1 },
    top_k: { type: orNull('integer'), minimum: 0 },
    metadata: { type: orNull('object') },
    stream: { type: orNull('boolean') },
  },
} as const;
