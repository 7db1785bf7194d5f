// The HTTP calls Open WebUI's backend makes to an Ollama URL
// (open-webui backend/open_webui/routers/ollama.py), with its headers: JSON
// bodies, `Authorization: Bearer <key>` when the connection has a key, and, for a
// connection reached as host.docker.internal, that `Host`. Node's fetch will not
// set `Host`, so these go through node:http.

import { request } from 'node:http';

export interface OllamaLine {
  model: string;
  done: boolean;
  done_reason?: string;
  cancel_reason?: string;
  message?: { role: string; content: string; thinking?: string };
  response?: string;
  error?: string;
}

export interface TagsModel {
  name: string;
  model: string;
  details: Record<string, unknown>;
}

export interface CallOptions {
  key?: string;
  /** The `Host` header, e.g. `host.docker.internal:8000` from Open WebUI's container. */
  host?: string;
}

export interface Answer {
  status: number;
  text: string;
}

/** One request, as Open WebUI's aiohttp/requests clients send it. */
export function call(base: string, method: 'GET' | 'POST', path: string, body: unknown, options: CallOptions = {}): Promise<Answer> {
  const url = new URL(path, base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.host) headers.host = options.host;
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, timeout: 20_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 20 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function ok<T>(answer: Promise<Answer>, what: string): Promise<T> {
  const { status, text } = await answer;
  if (status !== 200) throw new Error(`${what} answered ${status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Open WebUI's Ollama connection to `base`, the calls in the order it makes them. */
export function openWebUi(base: string, options: CallOptions = {}) {
  return {
    /** The connection check (verify_connection) and get_ollama_versions. */
    version: async () => (await ok<{ version: string }>(call(base, 'GET', '/api/version', undefined, options), '/api/version')).version,
    /** get_all_models: the model list, keyed by `model`. */
    tags: async () => (await ok<{ models: TagsModel[] }>(call(base, 'GET', '/api/tags', undefined, options), '/api/tags')).models,
    /** get_ollama_loaded_models: `expires_at` by `name`. */
    ps: async () => (await ok<{ models: Array<{ name: string; model: string; expires_at: string }> }>(call(base, 'GET', '/api/ps', undefined, options), '/api/ps')).models,
    show: (model: string) => ok<{ capabilities: string[]; details: Record<string, unknown> }>(call(base, 'POST', '/api/show', { model }, options), '/api/show'),
    /** generate_chat_completion: NDJSON lines (streamed) or one object, as lines. */
    chat: async (body: Record<string, unknown>): Promise<OllamaLine[]> => {
      const { status, text } = await call(base, 'POST', '/api/chat', body, options);
      if (status !== 200) throw new Error(`/api/chat answered ${status}: ${text}`);
      return text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as OllamaLine);
    },
    generate: (body: Record<string, unknown>) => ok<OllamaLine>(call(base, 'POST', '/api/generate', body, options), '/api/generate'),
    embed: (body: Record<string, unknown>) => ok<{ model: string; embeddings: number[][] }>(call(base, 'POST', '/api/embed', body, options), '/api/embed'),
  };
}
