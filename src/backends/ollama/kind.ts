import type { Env } from '../../env.js';
import { defineBackendKind } from '../kind.js';
import { OllamaBackend } from './backend.js';

export interface OllamaSettings {
  /** OLLAMA_HOST, read as Ollama reads it. */
  host: string;
}

/** Ollama's native API (docs/backends.md). */
export const ollamaKind = defineBackendKind({
  name: 'ollama',
  label: 'Ollama',
  auto: true,
  inProcess: false,
  noModelsHint: 'pull a model (ollama pull llama3.2) or set JARVIS_MODEL',
  targetVariable: 'OLLAMA_HOST',
  settings: (env: Env): OllamaSettings => ({ host: normalizeOllamaHost(env.OLLAMA_HOST) }),
  upstream: (settings) => settings.host,
  build: (settings) => new OllamaBackend({ host: settings.host }),
  probe: (backend, signal) => backend.models(signal),
});

/**
 * Reads OLLAMA_HOST as Ollama itself does: a bare `host[:port]` means http on
 * port 11434; with an explicit scheme the scheme's own port (80/443) is the default.
 */
export function normalizeOllamaHost(raw: string | undefined): string {
  const value = (raw || '127.0.0.1:11434').trim().replace(/\/+$/, '');
  const hasScheme = /^https?:\/\//.test(value);
  const url = new URL(hasScheme ? value : `http://${value}`);
  // 0.0.0.0 is where a server listens, not an address to connect to.
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (!hasScheme && !url.port) url.port = '11434';
  return url.toString().replace(/\/+$/, '');
}
