import type { ApiError } from '../../../shared/events.js';
import type { JarvisErrorCode, WireError } from '../../../shared/errors.js';

// An error in OpenAI's shape (docs/api.md, docs/errors.md): `{"error":{"code","message","type","param"}}`
// as a response body, and the same object on an SSE `data:` line when a stream has begun.

/** OpenAI's `type`: SDKs back off on `rate_limit_error` and retry `server_error`, never an invalid request. */
export function openaiErrorType(status: number): string {
  if (status === 429) return 'rate_limit_error';
  return status < 500 ? 'invalid_request_error' : 'server_error';
}

/** The body as Jarvis writes it: its code is always one of the registry's. */
export interface OpenAIErrorBody extends ApiError {
  error: ApiError['error'] & { code: JarvisErrorCode };
}

export function openaiErrorBody(err: WireError): OpenAIErrorBody {
  return { error: { code: err.code, message: err.message, type: openaiErrorType(err.status), param: err.param, ...(err.detail ? { detail: err.detail } : {}) } };
}

/** A stream's error once its `200` has gone out: one SSE event (the writer ends with `data: [DONE]`). */
export function openaiSseError(err: WireError): string {
  return `data: ${JSON.stringify(openaiErrorBody(err))}\n\n`;
}
