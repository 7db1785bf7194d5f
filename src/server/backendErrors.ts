import { BackendError } from '../backends/types.js';
import { HttpError } from './errors.js';
import { errorStatus } from './protocols/openai/format.js';

/**
 * A failed backend call (model list, details, embeddings) as the HTTP error the
 * client sees: an upstream's own refusal keeps its 4xx (upstreamErrors.ts), so a
 * bad input stays a bad input, which SDKs do not retry.
 */
export function backendHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof BackendError) return new HttpError(errorStatus({ code: err.code, status: err.status }), err.code, err.message);
  return new HttpError(502, 'upstream_error', err instanceof Error ? err.message : String(err));
}
