import type { EmbedResult } from '../../../backends/modelInfo.js';

// OpenAI's embeddings API (POST /v1/embeddings): the body Jarvis accepts and the
// list it answers, with each vector as floats or, as the `openai` package asks by
// default, base64 of little-endian float32.

export interface OpenAIEmbeddingsBody {
  model: string;
  input: string | string[];
  encoding_format?: 'float' | 'base64' | null;
  dimensions?: number | null;
  user?: string | null;
}

export const embeddingsBodySchema = {
  type: 'object',
  required: ['model', 'input'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 256 },
    // Token-id inputs (arrays of integers) are refused: no upstream Jarvis serves shares the client's tokenizer.
    input: { anyOf: [{ type: 'string' }, { type: 'array', minItems: 1, maxItems: 2048, items: { type: 'string' } }] },
    encoding_format: { type: ['string', 'null'], enum: ['float', 'base64', null] },
    dimensions: { type: ['integer', 'null'], minimum: 1 },
    user: { type: ['string', 'null'], maxLength: 256 },
  },
} as const;

function base64(vector: number[]): string {
  const buf = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) buf.writeFloatLE(vector[i] as number, i * 4);
  return buf.toString('base64');
}

export function embeddingList(result: EmbedResult, model: string, format: 'float' | 'base64') {
  const tokens = result.promptTokens ?? 0;
  return {
    object: 'list',
    data: result.embeddings.map((embedding, index) => ({ object: 'embedding', index, embedding: format === 'base64' ? base64(embedding) : embedding })),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
