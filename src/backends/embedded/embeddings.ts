// `/v1/embeddings` and `/api/embed` from a loaded GGUF (docs/embedded.md,
// "JSON output, tools and embeddings"): one embedding context per model, made
// on first use with the engine's thread count and dropped with the model.
// Vectors are L2-normalised, as Ollama's and OpenAI's are.
import type { LlamaEmbeddingContext, LlamaModel } from 'node-llama-cpp';
import type { EmbedRequest, EmbedResult } from '../modelInfo.js';
import { BackendError } from '../types.js';

/** Inputs in one request; more is refused (each is a full evaluation). */
export const MAX_EMBED_INPUTS = 256;

export interface EmbedSettings {
  threads: number;
  /** Tokens one input may have (capped by what the model was trained on). */
  contextTokens: number;
}

interface Embedder {
  context: Promise<LlamaEmbeddingContext>;
  /** Tokens of one input, at most. */
  size: number;
}

const embedders = new WeakMap<LlamaModel, Embedder>();

function embedderFor(model: LlamaModel, settings: EmbedSettings): Embedder {
  let embedder = embedders.get(model);
  if (!embedder) {
    const size = Math.max(16, Math.min(settings.contextTokens, model.trainContextSize > 0 ? model.trainContextSize : settings.contextTokens));
    // Batch as large as the context: an input is evaluated in one batch.
    const context = model.createEmbeddingContext({ threads: settings.threads, contextSize: size, batchSize: size });
    context.catch(() => embedders.delete(model));
    embedders.set(model, (embedder = { context, size }));
  }
  return embedder;
}

function normalised(vector: readonly number[], dimensions: number | undefined): number[] {
  const cut = dimensions === undefined ? [...vector] : vector.slice(0, dimensions);
  const norm = Math.sqrt(cut.reduce((n, x) => n + x * x, 0));
  return norm > 0 ? cut.map((x) => x / norm) : cut;
}

/**
 * One vector per input, in order. An input longer than the context is cut to
 * it when `truncate` is not false (Ollama's default), else refused; either way
 * the client learns it in words.
 */
export async function embedWithModel(model: LlamaModel, settings: EmbedSettings, request: EmbedRequest, signal: AbortSignal): Promise<EmbedResult> {
  if (request.input.length === 0) throw new BackendError('invalid_request', '"input" is empty; send at least one text to embed');
  if (request.input.length > MAX_EMBED_INPUTS) {
    throw new BackendError('invalid_request', `"input" has ${request.input.length} texts; the embedded engine takes at most ${MAX_EMBED_INPUTS} per request`);
  }
  const dimensions = request.dimensions;
  if (dimensions !== undefined && (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > model.embeddingVectorSize)) {
    throw new BackendError('invalid_request', `"dimensions" must be a whole number from 1 to ${model.embeddingVectorSize} (this model's vector size)`);
  }
  const embedder = embedderFor(model, settings);
  let context: LlamaEmbeddingContext;
  try {
    context = await embedder.context;
  } catch (err) {
    throw new BackendError('upstream_error', `the embedded engine could not make an embedding context of ${embedder.size} tokens for this model`, {
      detail: err instanceof Error ? err.message : String(err),
    });
  }
  const limit = embedder.size;
  const embeddings: number[][] = [];
  let promptTokens = 0;
  for (const [i, text] of request.input.entries()) {
    if (signal.aborted) throw signal.reason ?? new Error('aborted');
    let tokens = model.tokenize(text);
    if (tokens.length === 0) tokens = model.tokenize(' ');
    if (tokens.length > limit) {
      if (request.truncate === false) {
        throw new BackendError('invalid_request', `input ${i + 1} is ${tokens.length} tokens, more than the ${limit} the model reads at once; shorten it or send "truncate": true`);
      }
      tokens = tokens.slice(0, limit);
    }
    promptTokens += tokens.length;
    const embedding = await context.getEmbeddingFor(tokens);
    embeddings.push(normalised(embedding.vector, dimensions));
  }
  return { model: request.model, embeddings, promptTokens };
}
