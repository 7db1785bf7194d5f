import { BackendError } from '../types.js';

/** An error as one line: its errno code (ECONNREFUSED…) first, when it has one. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code ?? (err.cause as NodeJS.ErrnoException | undefined)?.code;
    return code ? `${code} ${err.message}`.trim() : err.message;
  }
  return String(err);
}

/**
 * An upstream's HTTP error answer as a BackendError. Reads Ollama's
 * `{"error":"…"}`, OpenAI's `{"error":{"message":…}}` and old vLLM's
 * `{"object":"error","message":…}` alike. A 404 about a model is
 * `model_not_found`; any other 4xx is `upstream_rejected` and keeps its status, so
 * the client gets the same 4xx (an SDK retries a 502, never a 400), except 401 and
 * 403: those are about Jarvis's own upstream key, not the client's request.
 */
export function httpError(who: string, status: number, text: string): BackendError {
  let message = text.trim();
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const err = parsed.error;
    if (typeof err === 'string') message = err;
    else if (err && err.message !== undefined) message = String(err.message);
    else if (parsed.message !== undefined) message = String(parsed.message);
  } catch {
    // not JSON: keep the text
  }
  const described = `${who} answered HTTP ${status}: ${message.slice(0, 300)}`;
  if (status === 404 && /model/i.test(message)) return new BackendError('model_not_found', described, { status });
  if (status >= 400 && status < 500 && status !== 401 && status !== 403) return new BackendError('upstream_rejected', described, { status }, status);
  return new BackendError('upstream_error', described, { status });
}
