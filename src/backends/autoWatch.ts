import type { Config } from '../config.js';
import type { SystemLog } from '../log/systemLog.js';
import { OllamaBackend } from './ollama/backend.js';
import { probe, type SelectedBackend } from './select.js';

export interface OllamaWatch {
  stop(): void;
}

/**
 * `JARVIS_BACKEND=auto` running on the demo because Ollama did not answer at
 * start-up: asks OLLAMA_HOST for its models every `intervalMs` (one request at a
 * time, off the request path) and hands Ollama over once, as soon as it answers.
 * Streams already running keep the backend they started on.
 */
export function watchForOllama(config: Config, log: SystemLog, onAnswer: (selected: SelectedBackend) => void, intervalMs: number): OllamaWatch {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const backend = new OllamaBackend({ host: config.ollamaHost });
  const tick = async () => {
    const { models } = await probe(backend, Math.min(intervalMs, 1500));
    if (stopped) return;
    if (models === undefined) return schedule();
    const defaultModel = config.model ?? models[0];
    log.info('backend_selected', { backend: backend.name, choice: config.backend, upstream: config.ollamaHost, model: defaultModel, models: models.length, previous: 'demo', reason: 'ollama answered' });
    if (models.length === 0 && !config.model) log.warn('no_models', { upstream: config.ollamaHost, hint: 'pull a model (ollama pull llama3.2) or set JARVIS_MODEL' });
    onAnswer({ backend, defaultModel });
  };
  const schedule = () => {
    timer = setTimeout(() => void tick(), intervalMs);
    timer.unref();
  };
  schedule();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
