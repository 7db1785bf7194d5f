import type { JarvisErrorCode, WireError } from '../../../shared/errors.js';

// An error in Anthropic's shape (docs/anthropic.md, docs/errors.md):
// `{"type":"error","error":{"type","message"},"request_id"}` as a response body, and the same
// object as an SSE `event: error` once a stream has begun. Jarvis's registry code rides along
// in `error.code` (Anthropic's clients ignore a field they do not know).

/** Anthropic's error types, as its SDK reads them (`error.type`). */
export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'timeout_error'
  | 'api_error'
  | 'overloaded_error';

/** The codes that say "busy now, come back": Anthropic's `overloaded_error` (its SDK and Claude Code retry it). */
const OVERLOADED: ReadonlySet<JarvisErrorCode> = new Set(['engine_busy', 'upstream_busy', 'server_busy', 'shutting_down', 'cluster_unavailable']);

/**
 * The type of a Jarvis error. The HTTP status stays the registry's (503 for a busy
 * engine, not Anthropic's 529): the SDK retries both, and 503 is what every other
 * HTTP client and proxy understands.
 */
export function anthropicErrorType(err: Pick<WireError, 'code' | 'status'>): AnthropicErrorType {
  if (OVERLOADED.has(err.code)) return 'overloaded_error';
  switch (err.status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 429:
      return 'rate_limit_error';
    case 504:
      return 'timeout_error';
  }
  return err.status < 500 ? 'invalid_request_error' : 'api_error';
}

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: AnthropicErrorType; message: string; code: JarvisErrorCode; detail?: string };
  request_id?: string;
}

export function anthropicErrorBody(err: WireError, requestId?: string): AnthropicErrorBody {
  return {
    type: 'error',
    error: { type: anthropicErrorType(err), message: err.message, code: err.code, ...(err.detail ? { detail: err.detail } : {}) },
    ...(requestId ? { request_id: requestId } : {}),
  };
}

/** A stream's error once its `200` has gone out: one SSE event, the last. */
export function anthropicSseError(err: WireError, requestId?: string): string {
  return `event: error\ndata: ${JSON.stringify(anthropicErrorBody(err, requestId))}\n\n`;
}

/** Whether a request speaks Anthropic's API: its routes, or any request with an `anthropic-version` header (the SDK sends it on every call). */
export function speaksAnthropic(url: string, headers: Record<string, unknown>): boolean {
  return url.startsWith('/v1/messages') || headers['anthropic-version'] !== undefined;
}
