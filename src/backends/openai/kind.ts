import { int, type Env } from '../../env.js';
import { defineBackendKind } from '../kind.js';
import { OpenAIBackend } from './backend.js';

export interface OpenAISettings {
  /** OPENAI_BASE_URL, without a trailing slash. */
  baseUrl: string;
  /** OPENAI_API_KEY: sent as a bearer token when set. */
  apiKey: string | undefined;
  /** JARVIS_CANCEL_TIMEOUT_MS: by then the engine-stop verdict is in (docs/backends.md "Stop at the engine"). */
  cancelGraceMs: number;
}

/** Any OpenAI-compatible server: llama.cpp, vLLM, LM Studio… (docs/backends.md). */
export const openaiKind = defineBackendKind({
  name: 'openai',
  label: 'the OpenAI-compatible server',
  // Port 8080 is too common to guess: auto never takes a server it was not pointed at.
  auto: false,
  inProcess: false,
  noModelsHint: 'load a model in the server or set JARVIS_MODEL',
  targetVariable: 'OPENAI_BASE_URL',
  settings: (env: Env): OpenAISettings => ({
    baseUrl: (env.OPENAI_BASE_URL || 'http://127.0.0.1:8080/v1').replace(/\/+$/, ''),
    apiKey: env.OPENAI_API_KEY || undefined,
    cancelGraceMs: int(env, 'JARVIS_CANCEL_TIMEOUT_MS', 2000),
  }),
  upstream: (settings) => settings.baseUrl,
  build: (settings, context) => new OpenAIBackend({ ...settings, log: context.log }),
  probe: (backend, signal) => backend.models(signal),
});
