// The small, non-streaming part of the Jarvis API the UI calls (docs/api.md).
// `Api` carries the base URL and fetch so tests can point the client at any server.

import type { ApiError, HealthResponse, ModelList } from '../shared/events.js';

export interface Api {
  /** '' in the browser (same origin); an absolute URL in tests. */
  base: string;
  fetch: typeof fetch;
}

export const browserApi: Api = { base: '', fetch: (...args) => globalThis.fetch(...args) };

export async function getHealth(api: Api, signal?: AbortSignal): Promise<HealthResponse> {
  return getJson<HealthResponse>(api, '/health', signal);
}

export async function getModels(api: Api, signal?: AbortSignal): Promise<string[]> {
  return (await getModelList(api, signal)).map((m) => m.id);
}

/** The models with, when Jarvis has several model servers, the servers of each (`upstreams`). */
export async function getModelList(api: Api, signal?: AbortSignal): Promise<ModelList['data']> {
  return (await getJson<ModelList>(api, '/v1/models', signal)).data;
}

async function getJson<T>(api: Api, path: string, signal?: AbortSignal): Promise<T> {
  const response = await api.fetch(`${api.base}${path}`, { signal: signal ?? null });
  if (!response.ok) throw new Error((await readApiError(response)).message);
  return (await response.json()) as T;
}

/** The `{error:{code,message}}` body of a failed call, or a description of what came instead. */
export async function readApiError(response: Response): Promise<Pick<ApiError['error'], 'code' | 'message'>> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<ApiError>;
    if (body.error && typeof body.error.message === 'string') {
      return { code: String(body.error.code ?? `http_${response.status}`), message: body.error.message };
    }
  } catch {
    // not JSON: a proxy's or an older server's page; describe it below
  }
  return { code: `http_${response.status}`, message: `Jarvis answered HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}` };
}

/** An HTTP error of the API, with its status and code, so callers can tell a 404 from an outage. */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

/** One JSON call of Jarvis's own API: its body parsed (undefined for an empty one: a 204), else an ApiCallError. */
export async function callJson<T>(api: Api, url: string, options: { method?: string; json?: unknown; signal?: AbortSignal | undefined } = {}): Promise<T> {
  const response = await api.fetch(`${api.base}${url}`, {
    method: options.method ?? 'GET',
    ...(options.json !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(options.json) } : {}),
    signal: options.signal ?? null,
  });
  if (!response.ok) {
    const error = await readApiError(response);
    throw new ApiCallError(response.status, error.code, error.message);
  }
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}
