import type { ModelDescription, ModelDetails, RunningModel } from '../../../backends/modelInfo.js';
import type { Backend } from '../../../backends/types.js';
import { ollamaName } from './modelNames.js';

// ModelDescription in Ollama's shapes (api/types.go ListModelResponse,
// ProcessModelResponse, ShowResponse). Every field a client reads is present,
// as Ollama sends it: what the upstream did not say is empty, never invented.

const EPOCH = new Date(0).toISOString();

function details(d: ModelDetails | undefined) {
  return {
    parent_model: d?.parentModel ?? '',
    format: d?.format ?? '',
    family: d?.family ?? '',
    families: d?.families ?? null,
    parameter_size: d?.parameterSize ?? '',
    quantization_level: d?.quantizationLevel ?? '',
  };
}

// Names are listed with a tag, as Ollama lists them (modelNames.ts says why).

export function tagsEntry(m: ModelDescription) {
  const name = ollamaName(m.name);
  return {
    name,
    model: name,
    modified_at: m.modifiedAt ?? EPOCH,
    size: m.size ?? 0,
    digest: m.digest ?? '',
    details: details(m.details),
    ...(m.capabilities ? { capabilities: m.capabilities } : {}),
  };
}

export function psEntry(m: RunningModel) {
  const name = ollamaName(m.name);
  return {
    name,
    model: name,
    size: m.size ?? 0,
    digest: m.digest ?? '',
    details: details(m.details),
    // Ollama's "never unloaded" is a far-future time; an upstream that does not unload is that too.
    expires_at: m.expiresAt ?? '2318-01-01T00:00:00Z',
    size_vram: m.sizeVram ?? 0,
    context_length: m.contextLength ?? 0,
  };
}

export function showBody(m: ModelDescription) {
  return {
    license: m.license ?? '',
    modelfile: m.modelfile ?? '',
    parameters: m.parameters ?? '',
    template: m.template ?? '',
    system: m.system ?? '',
    details: details(m.details),
    model_info: m.modelInfo ?? {},
    ...(m.projectorInfo ? { projector_info: m.projectorInfo } : {}),
    capabilities: m.capabilities ?? ['completion'],
    modified_at: m.modifiedAt ?? EPOCH,
  };
}

/**
 * With several model servers (docs/upstreams.md): the names of those that serve the model,
 * as `upstreams` beside Ollama's own fields, as /v1/models has them. Ollama's clients read
 * the fields they know and ignore the others (its Go client, ollama-js, ollama-python), so
 * nothing of Ollama's own shape changes; with one server the body is exactly Ollama's.
 */
export function withServers<T extends object>(body: T, backend: Backend, model: string): T | (T & { upstreams: string[] }) {
  return backend.servedBy ? { ...body, upstreams: backend.servedBy(model) } : body;
}
