// The body of `POST /v1/responses` as OpenAI's clients send it (docs/responses.md).
// The JSON schema checks the outer shapes (Fastify answers 400 with the path of what
// is wrong); request.ts checks the items and says in words what Jarvis cannot serve.

/** An input item as sent: a message (EasyInputMessage or `type: "message"`), a function call or its output, a reasoning item, a reference… */
export interface ResponsesInputItem {
  type?: string;
  role?: string;
  content?: string | Array<{ type: string; [key: string]: unknown }> | null;
  [key: string]: unknown;
}

export interface ResponsesFunctionTool {
  type: string;
  name?: string;
  description?: string | null;
  parameters?: Record<string, unknown> | null;
  strict?: boolean | null;
}

export type ResponsesToolChoice = 'auto' | 'none' | 'required' | { type: string; name?: string; [key: string]: unknown };

export interface ResponsesTextFormat {
  type: 'text' | 'json_object' | 'json_schema';
  name?: string;
  schema?: Record<string, unknown>;
  strict?: boolean | null;
  description?: string | null;
}

export interface ResponsesBody {
  model?: string | null;
  input?: string | ResponsesInputItem[] | null;
  instructions?: string | null;
  stream?: boolean | null;
  stream_options?: Record<string, unknown> | null;
  store?: boolean | null;
  background?: boolean | null;
  previous_response_id?: string | null;
  conversation?: unknown;
  prompt?: unknown;
  tools?: ResponsesFunctionTool[] | null;
  tool_choice?: ResponsesToolChoice | null;
  parallel_tool_calls?: boolean | null;
  max_tool_calls?: number | null;
  text?: { format?: ResponsesTextFormat | null; verbosity?: string | null } | null;
  reasoning?: { effort?: string | null; summary?: string | null; generate_summary?: string | null } | null;
  max_output_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  top_logprobs?: number | null;
  metadata?: Record<string, string> | null;
  user?: string | null;
  safety_identifier?: string | null;
  truncation?: 'auto' | 'disabled' | null;
  include?: string[] | null;
  /** Ollama's switch for thinking, accepted here as on Chat Completions. */
  think?: boolean | 'low' | 'medium' | 'high' | null;
  [key: string]: unknown;
}

const orNull = (type: string) => [type, 'null'];

export const responsesBodySchema = {
  type: 'object',
  properties: {
    model: { type: orNull('string'), minLength: 1, maxLength: 256 },
    input: { anyOf: [{ type: 'string' }, { type: 'array', maxItems: 10_000, items: { type: 'object' } }, { type: 'null' }] },
    instructions: { type: orNull('string') },
    stream: { type: orNull('boolean') },
    stream_options: { type: orNull('object') },
    store: { type: orNull('boolean') },
    background: { type: orNull('boolean') },
    previous_response_id: { type: orNull('string'), maxLength: 256 },
    tools: {
      type: orNull('array'),
      maxItems: 512,
      items: { type: 'object', required: ['type'], properties: { type: { type: 'string' }, name: { type: 'string', minLength: 1, maxLength: 256 }, description: { type: orNull('string') }, parameters: { type: orNull('object') }, strict: { type: orNull('boolean') } } },
    },
    tool_choice: { anyOf: [{ type: 'null' }, { type: 'string', enum: ['auto', 'none', 'required'] }, { type: 'object', required: ['type'], properties: { type: { type: 'string' } } }] },
    parallel_tool_calls: { type: orNull('boolean') },
    max_tool_calls: { type: orNull('integer'), minimum: 0 },
    text: {
      type: orNull('object'),
      properties: {
        format: {
          type: orNull('object'),
          required: ['type'],
          properties: { type: { type: 'string', enum: ['text', 'json_object', 'json_schema'] }, name: { type: 'string', maxLength: 64 }, schema: { type: 'object' }, strict: { type: orNull('boolean') } },
        },
        verbosity: { type: orNull('string') },
      },
    },
    reasoning: {
      type: orNull('object'),
      properties: { effort: { type: orNull('string'), enum: ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', null] }, summary: { type: orNull('string') }, generate_summary: { type: orNull('string') } },
    },
    max_output_tokens: { type: orNull('integer'), minimum: 1 },
    temperature: { type: orNull('number'), minimum: 0, maximum: 2 },
    top_p: { type: orNull('number'), minimum: 0, maximum: 1 },
    top_logprobs: { type: orNull('integer'), minimum: 0, maximum: 20 },
    metadata: { type: orNull('object'), maxProperties: 16, additionalProperties: { type: 'string', maxLength: 512 } },
    user: { type: orNull('string'), maxLength: 256 },
    safety_identifier: { type: orNull('string'), maxLength: 256 },
    truncation: { type: orNull('string'), enum: ['auto', 'disabled', null] },
    include: { type: orNull('array'), maxItems: 32, items: { type: 'string' } },
    think: { anyOf: [{ type: 'null' }, { type: 'boolean' }, { type: 'string', enum: ['low', 'medium', 'high'] }] },
  },
} as const;
