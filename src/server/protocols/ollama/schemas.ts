// Request bodies of Ollama's API (ollama/ollama api/types.go), as Jarvis accepts
// them: every field Ollama knows is allowed (unknown ones are ignored, as Go's
// decoder does); what Jarvis cannot honour is refused in request.ts, by name.

const modelName = { type: 'string', minLength: 1, maxLength: 256 } as const;
// Ajv's strict mode takes a type list only as `[T, 'null']`; wider unions are anyOf.
const keepAlive = { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'null' }] } as const;
const options = { type: ['object', 'null'] } as const;
const format = { anyOf: [{ type: 'string' }, { type: 'object' }, { type: 'null' }] } as const;
const think = { anyOf: [{ type: 'boolean' }, { type: 'string', enum: ['high', 'medium', 'low', 'max'] }, { type: 'null' }] } as const;
const images = { type: ['array', 'null'], maxItems: 64, items: { type: 'string' } } as const;
const logprobs = { type: ['boolean', 'null'] } as const;
const topLogprobs = { type: ['integer', 'null'], minimum: 0, maximum: 20 } as const;

export interface OllamaMessage {
  role: string;
  content?: string;
  thinking?: string;
  images?: string[] | null;
  tool_calls?: Array<{ id?: string; function: { index?: number; name: string; arguments: Record<string, unknown> } }> | null;
  tool_name?: string;
  tool_call_id?: string;
}

export interface OllamaChatBody {
  model?: string;
  messages?: OllamaMessage[] | null;
  stream?: boolean | null;
  format?: string | Record<string, unknown> | null;
  keep_alive?: string | number | null;
  tools?: unknown[] | null;
  options?: Record<string, unknown> | null;
  think?: boolean | string | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
}

export const chatBodySchema = {
  type: 'object',
  properties: {
    model: modelName,
    messages: {
      type: ['array', 'null'],
      maxItems: 10_000,
      items: {
        type: 'object',
        required: ['role'],
        properties: {
          role: { type: 'string', enum: ['system', 'user', 'assistant', 'tool'] },
          content: { type: 'string' },
          thinking: { type: 'string' },
          images,
          tool_calls: { type: ['array', 'null'] },
          tool_name: { type: 'string' },
          tool_call_id: { type: 'string' },
        },
      },
    },
    stream: { type: ['boolean', 'null'] },
    format,
    keep_alive: keepAlive,
    tools: { type: ['array', 'null'], maxItems: 1024 },
    options,
    think,
    logprobs,
    top_logprobs: topLogprobs,
  },
} as const;

export interface OllamaGenerateBody {
  model?: string;
  prompt?: string;
  suffix?: string;
  system?: string;
  template?: string;
  context?: number[] | null;
  stream?: boolean | null;
  raw?: boolean;
  format?: string | Record<string, unknown> | null;
  keep_alive?: string | number | null;
  images?: string[] | null;
  options?: Record<string, unknown> | null;
  think?: boolean | string | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
}

export const generateBodySchema = {
  type: 'object',
  properties: {
    model: modelName,
    prompt: { type: 'string' },
    suffix: { type: 'string' },
    system: { type: 'string' },
    template: { type: 'string' },
    context: { type: ['array', 'null'], items: { type: 'integer', minimum: 0, maximum: 0x10ffff } },
    stream: { type: ['boolean', 'null'] },
    raw: { type: 'boolean' },
    format,
    keep_alive: keepAlive,
    images,
    options,
    think,
    logprobs,
    top_logprobs: topLogprobs,
  },
} as const;

export interface OllamaShowBody {
  model?: string;
  /** The old name of `model`. */
  name?: string;
  verbose?: boolean;
}

export const showBodySchema = {
  type: 'object',
  properties: { model: { type: 'string', maxLength: 256 }, name: { type: 'string', maxLength: 256 }, verbose: { type: 'boolean' } },
} as const;

export interface OllamaEmbedBody {
  model: string;
  input?: string | string[] | null;
  truncate?: boolean | null;
  dimensions?: number | null;
  keep_alive?: string | number | null;
  options?: Record<string, unknown> | null;
}

export const embedBodySchema = {
  type: 'object',
  required: ['model'],
  properties: {
    model: modelName,
    input: { anyOf: [{ type: 'string' }, { type: 'array', maxItems: 2048, items: { type: 'string' } }, { type: 'null' }] },
    truncate: { type: ['boolean', 'null'] },
    dimensions: { type: ['integer', 'null'], minimum: 0 },
    keep_alive: keepAlive,
    options,
  },
} as const;

/** The legacy `/api/embeddings`: one prompt, one vector. */
export interface OllamaEmbeddingsBody {
  model: string;
  prompt?: string;
  keep_alive?: string | number | null;
  options?: Record<string, unknown> | null;
}

export const embeddingsBodySchema = {
  type: 'object',
  required: ['model'],
  properties: { model: modelName, prompt: { type: 'string' }, keep_alive: keepAlive, options },
} as const;
