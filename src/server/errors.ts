import { ClusterUnavailableError } from '../streams/coordinator.js';
import type { FastifyError, FastifyInstance } from 'fastify';
import { SESSION_HEADER, type ApiError, type GuardErrorCode } from '../shared/events.js';
import type { SystemLog } from '../log/systemLog.js';
import { principalOf } from './http/guards/principal.js';

/** An error with the status and code the client should see (and any headers it needs, e.g. a 401's challenge). */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** The request field at fault, as OpenAI's `param`. */
    readonly param: string | null = null,
    /** Extra response headers, e.g. `Retry-After` on a 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A request refused by a guard (src/server/guards/), before any of its work was done. */
export class GuardError extends HttpError {
  declare readonly code: GuardErrorCode;
  constructor(statusCode: number, code: GuardErrorCode, message: string, headers?: Readonly<Record<string, string>>) {
    super(statusCode, code, message, null, headers);
  }
}

/** Jarvis's error body, also a valid OpenAI error object (`type`, `param`). */
export function errorBody(code: string, message: string, status = 400, param: string | null = null): ApiError {
  return { error: { code, message, type: errorType(status), param } };
}

function errorType(status: number): string {
  if (status === 429) return 'rate_limit_error';
  return status < 500 ? 'invalid_request_error' : 'server_error';
}

/** How a failed request is answered: `body` encodes it in the route's protocol. */
export type ErrorBodyOf = (code: string, message: string, status: number, param: string | null) => unknown;

/** Every failure becomes `{"error":{"code","message"}}` and one log line; none is a crash. */
export function installErrorHandling(app: FastifyInstance, log: SystemLog, body: ErrorBodyOf = errorBody): void {
  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    const { status, code, message } = classify(err);
    const param = err instanceof HttpError ? err.param : null;
    const fields = {
      method: request.method,
      url: request.url.slice(0, 200),
      status,
      code,
      error: message.slice(0, 300),
      session: typeof request.headers[SESSION_HEADER] === 'string' ? request.headers[SESSION_HEADER].slice(0, 128) : undefined,
      key: principalOf(request)?.name,
    };
    if (status >= 500) log.error('request_failed', { ...fields, stack: err.stack?.slice(0, 2000) });
    else log.warn('bad_request', fields);
    if (err instanceof HttpError) void reply.headers(err.headers);
    void reply.code(status).type('application/json').send(body(code, message, status, param));
  });

  app.setNotFoundHandler((request, reply) => {
    log.warn('bad_request', { method: request.method, url: request.url.slice(0, 200), status: 404, code: 'not_found' });
    void reply.code(404).type('application/json').send(body('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`, 404, null));
  });
}

function classify(err: FastifyError | HttpError): { status: number; code: string; message: string } {
  if (err instanceof HttpError) return { status: err.statusCode, code: err.code, message: err.message };
  if (err instanceof ClusterUnavailableError) return { status: 503, code: 'cluster_unavailable', message: err.message };
  if ('validation' in err && err.validation) {
    if (err.validationContext === 'params') {
      return { status: 400, code: 'invalid_session_id', message: 'session ids are 1-128 characters of A-Z a-z 0-9 . _ : -' };
    }
    return { status: 400, code: 'invalid_request', message: `invalid request: ${err.message.replace(/^body\/?/, 'body ')}` };
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, code: 'body_too_large', message: 'request body is larger than the limit (JARVIS_BODY_LIMIT_BYTES)' };
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return { status, code: (err.code ?? 'bad_request').toLowerCase(), message: err.message };
  return { status: 500, code: 'internal_error', message: 'Jarvis failed to handle this request; see the system log' };
}
