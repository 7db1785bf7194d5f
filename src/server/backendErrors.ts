import { BackendError } from '../backends/types.js';
import { technicalDetail } from '../shared/errors.js';
import { HttpError } from './errors.js';

/**
 * A failed backend call (model list, details, embeddings) as the HTTP error the
 * client sees: an upstream's own refusal keeps its 4xx (src/backends/upstream/upstreamErrors.ts),
 * so a bad input stays a bad input, which SDKs do not retry. The backend's words
 * are the message; its technical cause, when it gives one, the `detail`.
 */
export function backendHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const detail = technicalDetail(err);
  if (err instanceof BackendError) return new HttpError(err.code, err.message, { ...(err.status === undefined ? {} : { status: err.status }), detail });
  return new HttpError('upstream_error', err instanceof Error ? err.message : String(err), { detail });
}
