import type { Config } from '../config.js';
import type { SystemLog } from '../log/systemLog.js';
import { DEMO_MODEL, DemoBackend } from './demo.js';
import { OllamaBackend } from './ollama.js';
import { OpenAIBackend } from './openai.js';
import type { Backend } from './types.js';

export interface SelectedBackend {
  backend: Backend;
  /** The model used when a request names none (JARVIS_MODEL, else the backend's first). */
  defaultModel: string | undefined;
}

/**
 * Picks the backend at start-up. `auto` uses Ollama when OLLAMA_HOST answers
 * within `probeMs`, else the offline demo; the choice is logged with its reason.
 */
export async function selectBackend(config: Config, log: SystemLog, probeMs = 1500): Promise<SelectedBackend> {
  if (config.backend === 'demo') return demo(config, log, 'JARVIS_BACKEND=demo');

  if (config.backend === 'openai') return openai(config, log, probeMs);

  const ollama = new OllamaBackend({ host: config.ollamaHost });
  let models: string[] | undefined;
  let failure = '';
  try {
    models = await ollama.models(AbortSignal.timeout(probeMs));
  } catch (err) {
    failure = err instanceof Error ? err.message : String(err);
  }

  if (models === undefined && config.backend === 'auto') {
    return demo(config, log, `ollama not answering at ${config.ollamaHost} (${failure})`);
  }
  const defaultModel = config.model ?? models?.[0];
  log.info('backend_selected', {
    backend: 'ollama',
    choice: config.backend,
    host: config.ollamaHost,
    model: defaultModel,
    models: models?.length,
    reason: models === undefined ? `ollama not answering yet: ${failure}` : 'ollama answered',
  });
  if (models !== undefined && models.length === 0 && !config.model) {
    log.warn('no_models', { host: config.ollamaHost, hint: 'run `ollama pull llama3.2` or set JARVIS_MODEL' });
  }
  return { backend: ollama, defaultModel };
}

function demo(config: Config, log: SystemLog, reason: string): SelectedBackend {
  log.info('backend_selected', { backend: 'demo', choice: config.backend, model: DEMO_MODEL, reason });
  return { backend: new DemoBackend(config.demoTokenMs), defaultModel: DEMO_MODEL };
}

async function openai(config: Config, log: SystemLog, probeMs: number): Promise<SelectedBackend> {
  const backend = new OpenAIBackend({ baseUrl: config.openaiBaseUrl, apiKey: config.openaiApiKey });
  let models: string[] | undefined;
  let failure = '';
  try {
    models = await backend.models(AbortSignal.timeout(probeMs));
  } catch (err) {
    failure = err instanceof Error ? err.message : String(err);
  }
  const defaultModel = config.model ?? models?.[0];
  log.info('backend_selected', {
    backend: 'openai',
    choice: config.backend,
    base_url: config.openaiBaseUrl,
    model: defaultModel,
    models: models?.length,
    reason: models === undefined ? `not answering yet: ${failure}` : 'answered',
  });
  return { backend, defaultModel };
}
