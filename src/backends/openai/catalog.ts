import type { EmbedRequest, EmbedResult, ModelDescription, RunningModel } from '../modelInfo.js';
import { BackendError } from '../types.js';
import { requestJson } from '../upstream/upstreamJson.js';

// An OpenAI-compatible server's models and embeddings (`GET {base}/models`,
// `POST {base}/embeddings`) in Jarvis's neutral shapes. These servers say little
// about a model: its id, when it was made, and (vLLM) `max_model_len`.

interface OpenAIModel {
  id?: unknown;
  created?: unknown;
  owned_by?: unknown;
  max_model_len?: unknown;
}

export interface OpenAICatalogOptions {
  baseUrl: string;
  headers: () => Record<string, string>;
}

export class OpenAICatalog {
  constructor(private readonly options: OpenAICatalogOptions) {}

  private url(path: string): URL {
    return new URL(`${this.options.baseUrl.replace(/\/+$/, '')}${path}`);
  }

  async list(signal?: AbortSignal): Promise<ModelDescription[]> {
    const body = await requestJson<{ data?: OpenAIModel[] }>(this.options.baseUrl, this.url('/models'), { headers: this.options.headers(), signal });
    if (!Array.isArray(body.data)) throw new BackendError('upstream_error', `${this.options.baseUrl}/models answered without a model list`);
    return body.data
      .filter((m) => typeof m.id === 'string' && m.id !== '')
      .map((m) => ({
        name: m.id as string,
        modifiedAt: typeof m.created === 'number' && m.created > 0 ? new Date(m.created * 1000).toISOString() : undefined,
        contextLength: typeof m.max_model_len === 'number' ? m.max_model_len : undefined,
        // No capabilities: these servers do not list them, and a guess would refuse images a
        // vision model takes (docs/conversations.md "Attachments"). The Ollama adapter's
        // /api/show still says `completion` (src/server/protocols/ollama/models.ts).
      }));
  }

  async show(name: string, signal?: AbortSignal): Promise<ModelDescription> {
    // Not every server has /models/{id} (llama.cpp has not): the list is the one source.
    // Ollama clients say `name:latest` for a model named `name`.
    const bare = name.endsWith(':latest') ? name.slice(0, -':latest'.length) : name;
    const found = (await this.list(signal)).find((m) => m.name === name || m.name === bare);
    if (!found) throw new BackendError('model_not_found', `model '${name}' not found at ${this.options.baseUrl}`);
    return found;
  }

  /** vLLM and llama.cpp keep every model they serve loaded: those are the running ones. */
  async running(signal?: AbortSignal): Promise<RunningModel[]> {
    return this.list(signal);
  }

  async embed(request: EmbedRequest, signal: AbortSignal): Promise<EmbedResult> {
    // The OpenAI API refuses an empty input; Ollama answers it with no vectors.
    if (request.input.length === 0) return { model: request.model, embeddings: [] };
    const body = await requestJson<{ model?: unknown; data?: Array<{ embedding?: unknown; index?: unknown }>; usage?: { prompt_tokens?: unknown } }>(
      this.options.baseUrl,
      this.url('/embeddings'),
      {
        method: 'POST',
        body: { model: request.model, input: request.input, encoding_format: 'float', ...(request.dimensions ? { dimensions: request.dimensions } : {}) },
        headers: this.options.headers(),
        signal,
        timeoutMs: 300_000,
      },
    );
    if (!Array.isArray(body.data)) throw new BackendError('upstream_error', `${this.options.baseUrl}/embeddings answered without data`);
    const embeddings: number[][] = new Array<number[]>(body.data.length);
    body.data.forEach((d, i) => {
      if (!Array.isArray(d.embedding)) throw new BackendError('upstream_error', `${this.options.baseUrl}/embeddings answered an embedding that is not a list of numbers`);
      embeddings[typeof d.index === 'number' ? d.index : i] = d.embedding as number[];
    });
    if (embeddings.length !== request.input.length || embeddings.some((e) => e === undefined)) {
      throw new BackendError('upstream_error', `${this.options.baseUrl}/embeddings answered ${body.data.length} embeddings for ${request.input.length} inputs`);
    }
    const promptTokens = typeof body.usage?.prompt_tokens === 'number' ? body.usage.prompt_tokens : undefined;
    return { model: typeof body.model === 'string' ? body.model : request.model, embeddings, promptTokens };
  }
}
