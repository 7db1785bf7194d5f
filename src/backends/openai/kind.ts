import type { Env } from '../../env.js';
import { defineBackendKind } from '../kind.js';
import { OpenAIBackend } from './backend.js';

export interface OpenAISettings {
  /** OPENAI_BASE_URL, without a trailing slash. */
  baseUrl: string;
  /** OPENAI_API_KEY: sent as a bearer token when set. */
  apiKey: string | undefined;
}

/** Any OpenAI-compatible server: llama.cpp, vLLM, LM Studio… (docs/backends.md). */
export const openaiKind = defineBackendKind({
  name: 'openai',
  label: 'the OpenAI-compatible server',
  // Port 8080 is too common to guess: auto never takes a server it was not pointed at.
  auto: false,
  inProcess: false,
  noModelsHint: 'load a model in the server or set JARVIS_MODEL',
  settings: (env: Env): OpenAISettings => ({
    baseUrl: (env.OPENAI_BASE_URL || 'http://127.0.0.1:8080/v1').replace(/\/+$/, ''),
    apiKey: env.OPENAI_API_KEY || undefined,
  }),
  upstream: (settings) => settings.baseUrl,
  build: (settings) => new OpenAIBackend(settings),
  probe: (backend, signal) => backend.models(signal),
});
