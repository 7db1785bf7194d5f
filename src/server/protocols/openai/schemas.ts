// The body of `POST /v1/chat/completions` as OpenAI's clients send it. The JSON
// schema checks shapes (Fastify answers 400 with the path of what is wrong);
// request.ts checks what a schema cannot say clearly. Fields that are
// not listed are ignored, and every optional parameter may be `null`.

export type OpenAIRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

export type OpenAIContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: string | { url: string; detail?: string } }
  | { type: string; [key: string]: unknown };

export interface OpenAIMessage {
  role: OpenAIRole;
  content?: string | OpenAIContentPart[] | null;
  name?: string | null;
  tool_calls?: Array<{ id?: string; type?: 'function'; function: { name: string; arguments?: string } }> | null;
  tool_call_id?: string | null;
}

export interface OpenAIChatBody {
  messages: OpenAIMessage[];
  model?: string | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  temperature?: number | null;
  top_p?: number | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  n?: number | null;
  stop?: string | string[] | null;
  seed?: number | null;
  frequency_penalty?: number | null;
  presence_penalty?: number | null;
  response_format?: { type: 'text' | 'json_object' | 'json_schema'; json_schema?: { name?: string; schema?: Record<string, unknown>; strict?: boolean | null; description?: string } } | null;
  tools?: Array<{ type: 'function'; function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean | null } }> | null;
  tool_choice?: 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } } | null;
  parallel_tool_calls?: boolean | null;
  reasoning_effort?: 'none' | 'minimal' | 'low' | 'medium' | 'high' | null;
  /** Ollama's switch for thinking, accepted here too. */
  think?: boolean | 'low' | 'medium' | 'high' | null;
  keep_alive?: string | number | null;
  /** Ollama's model options (num_ctx, top_k, repeat_penalty…), passed to an Ollama upstream. */
  options?: Record<string, unknown> | null;
  logprobs?: boolean | null;
  /** With `logprobs`: the alternatives per token (0-20). */
  top_logprobs?: number | null;
  modalities?: string[] | null;
  user?: string | null;
}

const orNull = (type: string | string[]) => (Array.isArray(type) ? [...type, 'null'] : [type, 'null']);

const functionSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 256 },
    description: { type: orNull('string') },
    parameters: { type: orNull('object') },
    strict: { type: orNull('boolean') },
  },
};

const messageSchema = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { type: 'string', enum: ['system', 'developer', 'user', 'assistant', 'tool'] },
    content: {
      type: ['string', 'array', 'null'],
      maxItems: 1000,
      items: { type: 'object', required: ['type'], properties: { type: { type: 'string' } } },
    },
    name: { type: orNull('string'), maxLength: 256 },
    tool_calls: {
      type: orNull('array'),
      maxItems: 1000,
      items: {
        type: 'object',
        required: ['function'],
        properties: {
          id: { type: 'string', maxLength: 512 },
          type: { type: 'string', enum: ['function'] },
          function: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, arguments: { type: 'string' } } },
        },
      },
    },
    tool_call_id: { type: orNull('string'), maxLength: 512 },
  },
};

export const chatBodySchema = {
  type: 'object',
  required: ['messages'],
  properties: {
    messages: { type: 'array', minItems: 1, maxItems: 10_000, items: messageSchema },
    model: { type: orNull('string'), minLength: 1, maxLength: 256 },
    stream: { type: orNull('boolean') },
    stream_options: { type: orNull('object'), properties: { include_usage: { type: orNull('boolean') } } },
    temperature: { type: orNull('number'), minimum: 0, maximum: 2 },
    top_p: { type: orNull('number'), minimum: 0, maximum: 1 },
    max_tokens: { type: orNull('integer'), minimum: 1 },
    max_completion_tokens: { type: orNull('integer'), minimum: 1 },
    n: { type: orNull('integer'), minimum: 1 },
    stop: { type: ['string', 'array', 'null'], maxItems: 16, items: { type: 'string' } },
    seed: { type: orNull('integer') },
    frequency_penalty: { type: orNull('number'), minimum: -2, maximum: 2 },
    presence_penalty: { type: orNull('number'), minimum: -2, maximum: 2 },
    response_format: {
      type: orNull('object'),
      required: ['type'],
      properties: {
        type: { type: 'string', enum: ['text', 'json_object', 'json_schema'] },
        json_schema: { type: 'object', properties: { name: { type: 'string' }, schema: { type: 'object' }, strict: { type: orNull('boolean') } } },
      },
    },
    tools: {
      type: orNull('array'),
      maxItems: 512,
      items: { type: 'object', required: ['function'], properties: { type: { type: 'string', enum: ['function'] }, function: functionSchema } },
    },
    tool_choice: {
      anyOf: [
        { type: 'null' },
        { type: 'string', enum: ['auto', 'none', 'required'] },
        { type: 'object', required: ['function'], properties: { type: { type: 'string', enum: ['function'] }, function: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } },
      ],
    },
    parallel_tool_calls: { type: orNull('boolean') },
    reasoning_effort: { type: orNull('string'), enum: ['none', 'minimal', 'low', 'medium', 'high', null] },
    think: { anyOf: [{ type: 'null' }, { type: 'boolean' }, { type: 'string', enum: ['low', 'medium', 'high'] }] },
    keep_alive: { type: ['string', 'number', 'null'] },
    options: { type: orNull('object') },
    logprobs: { type: orNull('boolean') },
    top_logprobs: { type: orNull('integer'), minimum: 0, maximum: 20 },
    modalities: { type: orNull('array'), items: { type: 'string' } },
    user: { type: orNull('string'), maxLength: 256 },
  },
} as const;
