import type { Config } from '../config.js';
import type { SystemLog } from '../log/systemLog.js';
import { DEMO_MODEL, DemoBackend } from './demo/backend.js';
import { OllamaBackend } from './ollama/backend.js';
import { OpenAIBackend } from './openai/backend.js';
import type { Backend } from './types.js';

export interface SelectedBackend {
  backend: Backend;
  /** The model used when a request names none (JARVIS_MODEL, else the backend's first). */
  defaultModel: string | undefined;
}

/**
 * Picks the backend at start-up. `auto` uses Ollama when OLLAMA_HOST answers
 * within `probeMs`, else the offline demo (and ollamaWatch.ts keeps asking); the
 * choice is logged with its reason.
 * An explicitly chosen backend is used even while it does not answer yet.
 */
export async function selectBackend(config: Config, log: SystemLog, probeMs = 1500): Promise<SelectedBackend> {
  if (config.backend === 'demo') return demo(config, log, 'JARVIS_BACKEND=demo');

  const [backend, where] =
    config.backend === 'openai'
      ? [new OpenAIBackend({ baseUrl: config.openaiBaseUrl, apiKey: config.openaiApiKey }), config.openaiBaseUrl]
      : [new OllamaBackend({ host: config.ollamaHost }), config.ollamaHost];
  const { models, failure } = await probe(backend, probeMs);
  if (models === undefined && config.backend === 'auto') {
    return demo(config, log, `ollama not answering at ${where} (${failure})`);
  }

  const defaultModel = config.model ?? models?.[0];
  log.info('backend_selected', {
    backend: backend.name,
    choice: config.backend,
    upstream: where,
    model: defaultModel,
    models: models?.length,
    reason: models === undefined ? `${backend.name} not answering yet: ${failure}` : `${backend.name} answered`,
  });
  if (models !== undefined && models.length === 0 && !config.model) {
    log.warn('no_models', { upstream: where, hint: 'pull a model (ollama pull llama3.2) or set JARVIS_MODEL' });
  }
  return { backend, defaultModel };
}

export async function probe(backend: Backend, probeMs: number): Promise<{ models?: string[]; failure: string }> {
  try {
    return { models: await backend.models(AbortSignal.timeout(probeMs)), failure: '' };
  } catch (err) {
    return { failure: err instanceof Error ? err.message : String(err) };
  }
}

function demo(config: Config, log: SystemLog, reason: string): SelectedBackend {
  log.info('backend_selected', { backend: 'demo', choice: config.backend, model: DEMO_MODEL, reason });
  return { backend: new DemoBackend(config.demoTokenMs), defaultModel: DEMO_MODEL };
}
