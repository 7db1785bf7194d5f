import { ROOT_CONTEXT, SpanKind, type Attributes, type Context, type Tracer } from '@opentelemetry/api';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider, type Sampler, type SpanExporter } from '@opentelemetry/sdk-trace';
import { ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { BackendRequest } from '../backends/types.js';
import type { ChatStream } from '../streams/chatStream.js';
import type { StreamSpan } from '../streams/streamTracer.js';
import type { TracingConfig } from './config.js';
import { CountedExport } from './exportQueue.js';
import { RequestSpans } from './requestSpans.js';
import { SpanContexts } from './spanContexts.js';
import { epoch, OtelStreamSpan } from './streamSpan.js';
import type { Tracing, TracingDeps } from './types.js';

/** The official SDK behind Jarvis's Tracing (docs/architecture.md says why this one). */
export class OtelTracing implements Tracing {
  private readonly requests: RequestSpans;
  private readonly contexts: SpanContexts;
  private readonly addresses = new Map<string, Attributes>();

  private constructor(
    private readonly provider: TracerProvider,
    private readonly tracer: Tracer,
    private readonly processor: CountedExport,
    private readonly deps: TracingDeps,
  ) {
    this.requests = new RequestSpans(tracer);
    this.contexts = new SpanContexts(deps.redis, deps.retentionMs);
  }

  static async open(config: TracingConfig, deps: TracingDeps): Promise<OtelTracing> {
    const options = { url: config.url, headers: config.headers, timeoutMillis: config.timeoutMs };
    // Only the exporter of the protocol asked for is loaded.
    const exporter: SpanExporter =
      config.protocol === 'http/json'
        ? new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter(options)
        : new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter(options);
    const processor = new CountedExport(exporter, config, deps.log);
    const resource = defaultResource().merge(
      resourceFromAttributes({ ...config.resource, [ATTR_SERVICE_NAME]: config.serviceName, ...(deps.instance ? { 'service.instance.id': deps.instance } : {}) }),
    );
    const provider = new TracerProvider({ resource, sampler: samplerOf(config), spanProcessors: [processor] });
    deps.log.info('tracing_started', { url: config.url, protocol: config.protocol, service: config.serviceName, sampler: config.sampler });
    return new OtelTracing(provider, provider.getTracer('jarvis'), processor, deps);
  }

  install(app: FastifyInstance, codeOf: (error: Error) => string): void {
    this.requests.install(app, codeOf);
  }

  parentOf(request: FastifyRequest): unknown {
    return this.requests.contextOf(request);
  }

  readerAttached(request: FastifyRequest, streamId: string): void {
    const span = this.requests.spanOf(request);
    if (!span) return;
    span.setAttribute('jarvis.stream.id', streamId);
    span.addEvent('reader_attached', { 'jarvis.stream.id': streamId });
    void this.contexts.find(streamId).then(
      (context) => context && span.addLink({ context, attributes: { 'jarvis.link': 'reader', 'jarvis.stream.id': streamId } }),
      () => {},
    );
  }

  startStream(stream: ChatStream, request: BackendRequest, backend: string, parent: unknown): StreamSpan {
    const operation = request.prompt !== undefined ? 'text_completion' : 'chat';
    const attributes: Attributes = {
      'gen_ai.operation.name': operation,
      'gen_ai.request.model': stream.model,
      'gen_ai.response.model': request.model,
      'gen_ai.provider.name': backend,
      'gen_ai.system': backend,
      'jarvis.session.id': stream.sessionId,
      'jarvis.stream.id': stream.id,
      'jarvis.backend': backend,
    };
    if (stream.owner) attributes['jarvis.key'] = stream.owner;
    if (this.deps.instance) attributes['jarvis.instance'] = this.deps.instance;
    if (request.maxTokens !== undefined) attributes['gen_ai.request.max_tokens'] = request.maxTokens;
    if (request.temperature !== undefined) attributes['gen_ai.request.temperature'] = request.temperature;
    if (request.topP !== undefined) attributes['gen_ai.request.top_p'] = request.topP;
    const span = this.tracer.startSpan(
      `${operation} ${stream.model}`,
      { kind: SpanKind.CLIENT, startTime: epoch(stream.startedMs), attributes },
      (parent as Context | undefined) ?? ROOT_CONTEXT,
    );
    this.contexts.remember(stream.id, span.spanContext());
    return new OtelStreamSpan(span, this.contexts, (ended) => this.serverOf(ended.upstream, backend));
  }

  dropped(): number {
    return this.processor.dropped;
  }

  async shutdown(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.provider.shutdown().catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** `server.address` and `server.port` of the model server that answered (known from the configuration). */
  private serverOf(upstream: string | undefined, backend: string): Attributes {
    const key = upstream ?? `/${backend}`;
    let found = this.addresses.get(key);
    if (!found) {
      found = {};
      try {
        const raw = this.deps.upstreamUrl(upstream, backend);
        if (raw) {
          const url = new URL(raw);
          found = { [ATTR_SERVER_ADDRESS]: url.hostname, [ATTR_SERVER_PORT]: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
        }
      } catch {}
      this.addresses.set(key, found);
    }
    return found;
  }
}

function samplerOf(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
