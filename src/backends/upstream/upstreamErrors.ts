import { BackendError } from '../types.js';

/**
 * An error as one technical line, for the log and an error's `detail`: its
 * message with its errno code (ECONNREFUSED…) once, and what caused it (fetch's
 * "fetch failed" hides the reason in its cause).
 */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause : undefined;
  const code = (err as NodeJS.ErrnoException).code ?? (cause as NodeJS.ErrnoException | undefined)?.code;
  let text = err.message;
  if (cause && cause.message && !text.includes(cause.message)) text = `${text}: ${cause.message}`;
  return code && !text.includes(code) ? `${text} (${code})` : text;
}

/** Why a connection failed, in the words a person reads: "connection refused". */
export function failureWords(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : undefined;
  const code = err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? (cause as NodeJS.ErrnoException | undefined)?.code) : undefined;
  if (code) {
    if (code === 'ECONNREFUSED') return 'connection refused';
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET') return 'connection reset';
    if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'connection timed out';
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name not found';
    if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ENETDOWN') return 'network unreachable';
    if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) return 'its TLS certificate was not accepted';
  }
  const text = err instanceof Error ? `${err.message} ${cause?.message ?? ''}` : String(err);
  if (/aborted|socket hang up|other side closed|closed the connection/i.test(text)) return 'connection closed';
  return 'connection failed';
}

/** Capitalised for the start of a sentence: "the OpenAI-compatible server" → "The OpenAI-compatible server". */
function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * No connection to the upstream (docs/backends.md "Errors"): `who` names it with
 * its address ("Ollama at http://127.0.0.1:11434").
 */
export function unreachable(who: string, err: unknown): BackendError {
  return new BackendError('upstream_unavailable', `Jarvis cannot reach ${who} (${failureWords(err)}). Retry when it is running.`, { detail: describeError(err) });
}

/** The connection broke while the upstream was sending a reply. */
export function cutOff(who: string, err: unknown): BackendError {
  return new BackendError('upstream_error', `${sentence(who)} stopped answering mid-reply (${failureWords(err)}). Retry when it is back.`, { detail: describeError(err) });
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
  if (status === 404 && /model/i.test(message)) return new BackendError('model_not_found', described, { fields: { status } });
  if (status >= 400 && status < 500 && status !== 401 && status !== 403) return new BackendError('upstream_rejected', described, { fields: { status }, status });
  return new BackendError('upstream_error', described, { fields: { status } });
}
