import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { ATTR_CLIENT_ADDRESS, ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_NETWORK_PROTOCOL_VERSION, ATTR_URL_PATH, ATTR_URL_SCHEME, ATTR_USER_AGENT_ORIGINAL } from '@opentelemetry/semantic-conventions';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';

const propagator = new W3CTraceContextPropagator();

/** The APIs (OpenAI's and Jarvis's `/v1/…`, Ollama's `/api/…`) are traced; the UI's files, `/health` and `/metrics` are not. */
function traced(url: string): boolean {
  return url.startsWith('/v1/') || url.startsWith('/api/');
}

/**
 * One SERVER span per API request (HTTP semantic conventions), named `METHOD route`, the child
 * of the client's `traceparent`/`tracestate` when it sent one. It ends when the response is
 * closed, whether Fastify sent it or a stream wrote it (a hijacked reply), or the client left.
 */
export class RequestSpans {
  private readonly spans = new WeakMap<FastifyRequest, Span>();
  /** A failed request's Jarvis error code: its 5xx span's `error.type`. */
  private readonly codes = new WeakMap<Span, string>();

  constructor(private readonly tracer: Tracer) {}

  install(app: FastifyInstance, codeOf: (error: Error) => string): void {
    app.addHook('onRequest', (request, reply, done) => {
      if (traced(request.url)) this.start(request, reply.raw);
      done();
    });
    // A refused or failed request names its Jarvis error code (docs/errors.md), not only its status.
    app.addHook('onError', (request, _reply, error, done) => {
      const span = this.spans.get(request);
      if (span) {
        try {
          const code = codeOf(error);
          this.codes.set(span, code);
          span.setAttribute('jarvis.error.code', code);
        } catch {}
      }
      done();
    });
  }

  /** The request's span as a context its streams start under; undefined when it has none. */
  contextOf(request: FastifyRequest): Context | undefined {
    const span = this.spans.get(request);
    return span ? trace.setSpan(ROOT_CONTEXT, span) : undefined;
  }

  spanOf(request: FastifyRequest): Span | undefined {
    return this.spans.get(request);
  }

  private start(request: FastifyRequest, res: ServerResponse): void {
    const parent = propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
    const route = request.routeOptions.url;
    const attributes: Attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: request.method,
      [ATTR_URL_PATH]: request.url.split('?', 1)[0],
      [ATTR_URL_SCHEME]: request.protocol,
      [ATTR_CLIENT_ADDRESS]: request.ip,
      [ATTR_NETWORK_PROTOCOL_VERSION]: request.raw.httpVersion,
    };
    if (route) attributes[ATTR_HTTP_ROUTE] = route;
    const agent = request.headers['user-agent'];
    if (agent) attributes[ATTR_USER_AGENT_ORIGINAL] = agent;
    const span = this.tracer.startSpan(route ? `${request.method} ${route}` : request.method, { kind: SpanKind.SERVER, attributes }, parent);
    this.spans.set(request, span);
    res.once('close', () => {
      const status = res.statusCode;
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      // The client left before the response ended (a reader that dropped, a closed tab).
      if (!res.writableFinished) span.setAttribute('jarvis.client_closed', true);
      if (status >= 500) {
        const code = this.codes.get(span);
        span.setAttribute(ATTR_ERROR_TYPE, code ?? String(status));
        span.setStatus({ code: SpanStatusCode.ERROR, message: code ? `${code} (HTTP ${status})` : `HTTP ${status}` });
      }
      span.end();
    });
  }
}
