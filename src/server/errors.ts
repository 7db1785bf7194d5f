import { ClusterUnavailableError } from '../streams/coordinator.js';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { SESSION_HEADER } from '../shared/events.js';
import {
  ERRORS,
  errorStatus,
  retryHeaders,
  withMessage,
  type ErrorArgs,
  type ErrorParams,
  type GuardErrorCode,
  type JarvisErrorCode,
  type WireError,
  type WireErrorOptions,
} from '../shared/errors.js';
import type { SystemLog } from '../log/systemLog.js';
import { principalOf } from './http/guards/principal.js';
import { jarvisErrorBody } from './protocols/jarvis/errors.js';
import { anthropicErrorBody, speaksAnthropic } from './protocols/anthropic/errors.js';

// The codes, statuses and words of every error are in src/shared/errors.ts (docs/errors.md);
// each protocol gives them its shape (src/server/protocols/*/errors.ts).

export interface HttpErrorOptions extends WireErrorOptions {
  /** Extra response headers, e.g. `Retry-After` on a 429, a 401's challenge. */
  headers?: Readonly<Record<string, string>>;
}

/** An error with the status and code the client should see (and any headers it needs, e.g. a 401's challenge). */
export class HttpError extends Error {
  readonly statusCode: number;
  /** The request field at fault, as OpenAI's `param`. */
  readonly param: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** The technical cause (errno, an upstream's words): logged, and sent beside the message. */
  readonly detail: string | undefined;

  /** `message` already worded (a backend's, the store's); else use httpError(), which renders the registry's. */
  constructor(
    readonly code: JarvisErrorCode,
    message: string,
    options: HttpErrorOptions = {},
  ) {
    super(message);
    this.statusCode = options.status ?? errorStatus(code);
    this.param = options.param ?? null;
    // A code whose registry entry names a wait (engine_busy) carries its Retry-After unless the thrower set one.
    this.headers = { ...retryHeaders(code), ...options.headers };
    this.detail = options.detail;
  }

  toWire(): WireError {
    return withMessage(this.code, this.message, { status: this.statusCode, param: this.param, ...(this.detail ? { detail: this.detail } : {}) });
  }
}

/** `httpError('model_not_found', { model })`: the registry's status and message for `code`. */
export function httpError<C extends JarvisErrorCode>(code: C, ...args: ErrorArgs<C, HttpErrorOptions>): HttpError {
  const [params, options] = args as [ErrorParams<C>, HttpErrorOptions?];
  return new HttpError(code, render(code, params), options);
}

/** A request refused by a guard (src/server/http/guards/, docs/security.md), before any of its work was done. */
export class GuardError extends HttpError {
  declare readonly code: GuardErrorCode;
}

export function guardError<C extends GuardErrorCode>(code: C, ...args: ErrorArgs<C, HttpErrorOptions>): GuardError {
  const [params, options] = args as [ErrorParams<C>, HttpErrorOptions?];
  return new GuardError(code, render(code, params), options);
}

function render<C extends JarvisErrorCode>(code: C, params: ErrorParams<C>): string {
  return (ERRORS[code].message as (p: ErrorParams<C>) => string)(params);
}

/** How a failed request is answered: encodes the error in the route's protocol. */
export type ErrorBodyOf = (err: WireError, request: FastifyRequest) => unknown;

/**
 * Jarvis's own shape (OpenAI's error object), or Anthropic's for a request that speaks
 * Anthropic's API (its routes, or an `anthropic-version` header: docs/anthropic.md), so
 * a guard's 401/403/429 reaches an Anthropic client in the shape its SDK reads.
 */
export function defaultErrorBody(err: WireError, request: FastifyRequest): unknown {
  return speaksAnthropic(request.url, request.headers) ? anthropicErrorBody(err, request.id) : jarvisErrorBody(err);
}

/** Every failure becomes one error body in the route's protocol and one log line (with its `detail`); none is a crash. */
export function installErrorHandling(app: FastifyInstance, log: SystemLog, body: ErrorBodyOf = defaultErrorBody): void {
  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    const wire = classify(err);
    const fields = {
      method: request.method,
      url: request.url.slice(0, 200),
      status: wire.status,
      code: wire.code,
      error: wire.message.slice(0, 300),
      detail: wire.detail?.slice(0, 500),
      session: typeof request.headers[SESSION_HEADER] === 'string' ? request.headers[SESSION_HEADER].slice(0, 128) : undefined,
      key: principalOf(request)?.name,
    };
    if (wire.status >= 500) log.error('request_failed', { ...fields, stack: err.stack?.slice(0, 2000) });
    else log.warn('bad_request', fields);
    if (err instanceof HttpError) void reply.headers(err.headers);
    void reply.code(wire.status).type('application/json').send(body(wire, request));
  });

  app.setNotFoundHandler((request, reply) => {
    const wire = withMessage('not_found', render('not_found', { method: request.method, path: request.url.split('?')[0] ?? '' }));
    log.warn('bad_request', { method: request.method, url: request.url.slice(0, 200), status: 404, code: 'not_found' });
    void reply.code(404).type('application/json').send(body(wire, request));
  });
}

/** What an error is on the wire: its Jarvis code, status and words (also what a traced request's span names). */
export function classify(err: FastifyError | HttpError): WireError {
  if (err instanceof HttpError) return err.toWire();
  if (err instanceof ClusterUnavailableError) return withMessage('cluster_unavailable', err.message);
  if ('validation' in err && err.validation) {
    if (err.validationContext === 'params') return withMessage('invalid_session_id', render('invalid_session_id', { in: 'path' }));
    return withMessage('invalid_request', `invalid request: ${err.message.replace(/^body\/?/, 'body ')}`);
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return withMessage('body_too_large', render('body_too_large', undefined));
  const status = err.statusCode ?? 500;
  // Fastify's own 4xx: its status kept, its code (FST_ERR_…) in `detail`.
  if (status >= 400 && status < 500) return withMessage('bad_request', err.message, { status, ...(err.code ? { detail: err.code } : {}) });
  return withMessage('internal_error', render('internal_error', undefined));
}
