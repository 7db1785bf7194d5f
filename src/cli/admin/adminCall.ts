import { ApiCallError, callJson, type Api } from '../../client/api.js';

/** A refused admin call: the server's words, its status, and what to do about a refused key. */
export class AdminCallError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'AdminCallError';
  }
}

/**
 * One call of a running Jarvis's admin API for the CLI (`jarvis keys --url`, `jarvis users --url`),
 * through the client core's callJson: `key` as the bearer, bounded by `timeoutMs`. A Jarvis that
 * cannot be reached, and a refusal (`keyHint` added on 401/403), are AdminCallErrors in words.
 */
export async function adminCall<T>(base: string, key: string | undefined, path: string, options: { method?: string; json?: unknown; timeoutMs: number; keyHint: string }): Promise<T> {
  const api: Api = {
    base,
    fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string> | undefined), ...(key ? { authorization: `Bearer ${key}` } : {}) } }),
  };
  try {
    return await callJson<T>(api, path, { ...(options.method ? { method: options.method } : {}), json: options.json, signal: AbortSignal.timeout(options.timeoutMs) });
  } catch (err) {
    if (err instanceof ApiCallError) {
      const hint = err.status === 401 || err.status === 403 ? ` (${options.keyHint})` : '';
      throw new AdminCallError(`${err.message}${hint}`, err.status);
    }
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
    throw new AdminCallError(`cannot reach Jarvis at ${base}: ${cause}`, 0);
  }
}
