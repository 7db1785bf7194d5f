import type { EmbedRequest, EmbedResult, ModelDescription, ModelDetails, RunningModel } from '../modelInfo.js';
import { BackendError } from '../types.js';
import { requestJson } from '../upstream/upstreamJson.js';

// Ollama's own model endpoints, read into Jarvis's neutral shapes (modelInfo.ts):
// /api/tags, /api/show, /api/ps, /api/version, /api/embed.

interface OllamaDetails {
  parent_model?: unknown;
  format?: unknown;
  family?: unknown;
  families?: unknown;
  parameter_size?: unknown;
  quantization_level?: unknown;
}

interface OllamaModel {
  name?: unknown;
  model?: unknown;
  modified_at?: unknown;
  size?: unknown;
  digest?: unknown;
  details?: OllamaDetails;
  capabilities?: unknown;
  expires_at?: unknown;
  size_vram?: unknown;
  context_length?: unknown;
}

interface OllamaShow {
  license?: unknown;
  modelfile?: unknown;
  parameters?: unknown;
  template?: unknown;
  system?: unknown;
  details?: OllamaDetails;
  model_info?: unknown;
  projector_info?: unknown;
  capabilities?: unknown;
  modified_at?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const strings = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
const record = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

function details(d: OllamaDetails | undefined): ModelDetails | undefined {
  if (!d) return undefined;
  return {
    parentModel: str(d.parent_model),
    format: str(d.format),
    family: str(d.family),
    families: strings(d.families),
    parameterSize: str(d.parameter_size),
    quantizationLevel: str(d.quantization_level),
  };
}

function model(m: OllamaModel): ModelDescription {
  return {
    name: String(m.name ?? m.model ?? ''),
    modifiedAt: str(m.modified_at),
    size: num(m.size),
    digest: str(m.digest),
    details: details(m.details),
    capabilities: strings(m.capabilities),
    contextLength: num(m.context_length),
  };
}

export class OllamaCatalog {
  constructor(private readonly host: string) {}

  private url(path: string): URL {
    return new URL(path, this.host);
  }

  private who(): string {
    return `Ollama at ${this.host}`;
  }

  async list(signal?: AbortSignal): Promise<ModelDescription[]> {
    const body = await requestJson<{ models?: OllamaModel[] }>(this.who(), this.url('/api/tags'), { signal });
    if (!Array.isArray(body.models)) throw new BackendError('upstream_error', 'Ollama /api/tags answered without a model list');
    return body.models.map(model).filter((m) => m.name !== '');
  }

  async show(name: string, signal?: AbortSignal): Promise<ModelDescription> {
    const body = await requestJson<OllamaShow>(this.who(), this.url('/api/show'), { method: 'POST', body: { model: name }, signal });
    return {
      name,
      modifiedAt: str(body.modified_at),
      details: details(body.details),
      capabilities: strings(body.capabilities),
      license: str(body.license),
      modelfile: str(body.modelfile),
      parameters: str(body.parameters),
      template: str(body.template),
      system: str(body.system),
      modelInfo: record(body.model_info),
      projectorInfo: record(body.projector_info),
    };
  }

  async running(signal?: AbortSignal): Promise<RunningModel[]> {
    const body = await requestJson<{ models?: OllamaModel[] }>(this.who(), this.url('/api/ps'), { signal });
    if (!Array.isArray(body.models)) throw new BackendError('upstream_error', 'Ollama /api/ps answered without a model list');
    return body.models.map((m) => ({ ...model(m), expiresAt: str(m.expires_at), sizeVram: num(m.size_vram) }));
  }

  async version(signal?: AbortSignal): Promise<string | undefined> {
    const body = await requestJson<{ version?: unknown }>(this.who(), this.url('/api/version'), { signal });
    return str(body.version);
  }

  async embed(request: EmbedRequest, signal: AbortSignal): Promise<EmbedResult> {
    const body = await requestJson<{ model?: unknown; embeddings?: unknown; prompt_eval_count?: unknown }>(this.who(), this.url('/api/embed'), {
      method: 'POST',
      body: {
        model: request.model,
        input: request.input,
        truncate: request.truncate,
        dimensions: request.dimensions,
        keep_alive: request.keepAlive,
        options: request.options,
      },
      signal,
      // Embedding a batch can take as long as a reply; the client's own disconnect still cuts it.
      timeoutMs: 300_000,
    });
    if (!Array.isArray(body.embeddings)) throw new BackendError('upstream_error', 'Ollama /api/embed answered without embeddings');
    return { model: str(body.model) ?? request.model, embeddings: body.embeddings as number[][], promptTokens: num(body.prompt_eval_count) };
  }
}
