import { BackendError } from './types.js';

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
 * `{"error":"…"}` and OpenAI's `{"error":{"message":…}}` alike; a 404 about a
 * model is `model_not_found`.
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
  const code = status === 404 && /model/i.test(message) ? 'model_not_found' : 'upstream_error';
  return new BackendError(code, `${who} answered HTTP ${status}: ${message.slice(0, 300)}`, { status });
}
