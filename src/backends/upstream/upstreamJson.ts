import { BackendError } from '../types.js';
import { describeError, failureWords, httpError, unreachable } from './upstreamErrors.js';

export interface JsonRequest {
  method?: 'GET' | 'POST';
  body?: unknown;
  headers?: Record<string, string>;
  /** The caller's signal (its client gone); the request also gives up after `timeoutMs`. */
  signal?: AbortSignal | undefined;
  timeoutMs?: number;
}

/** The most of an answer Jarvis reads: embeddings of a large batch are megabytes, not more. */
const MAX_BODY = 64 * 1024 * 1024;

/**
 * One JSON exchange with an upstream (model lists, model details, embeddings):
 * not a stream, so plain fetch. A refused connection is `upstream_unavailable`,
 * an HTTP error keeps the upstream's status and message (upstreamErrors.ts).
 */
export async function requestJson<T>(who: string, url: URL, request: JsonRequest = {}): Promise<T> {
  const timeout = AbortSignal.timeout(request.timeoutMs ?? 5000);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(url, {
      method: request.method ?? 'GET',
      headers: { accept: 'application/json', ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}), ...request.headers },
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
      signal,
    });
  } catch (err) {
    if (timeout.aborted) throw new BackendError('timeout', `${who} did not answer ${url.pathname} within ${request.timeoutMs ?? 5000} ms`);
    if (request.signal?.aborted) throw err;
    throw unreachable(who, err);
  }
  let text: string;
  try {
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > MAX_BODY) throw new Error(`answer of ${length} bytes is over the ${MAX_BODY} byte limit`);
    text = await res.text();
  } catch (err) {
    if (request.signal?.aborted) throw err;
    throw new BackendError('upstream_error', `${who} stopped answering while sending ${url.pathname} (${failureWords(err)}).`, { detail: describeError(err) });
  }
  if (!res.ok) throw httpError(who, res.status, text);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new BackendError('upstream_error', `${who} ${url.pathname} answered with something that is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
}
