import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { SystemLog } from '../log/systemLog.js';
import type { StreamTracer } from '../streams/streamTracer.js';

/**
 * OpenTelemetry traces as the server uses them (docs/observability.md "Traces (OpenTelemetry)").
 * Loaded only when configured (openTracing); the server holds `undefined` otherwise, so with
 * tracing off none of this runs, per request or per stream.
 */
export interface Tracing extends StreamTracer {
  /** Adds the request spans (an `onRequest` hook, before the guards: refusals are traced too); `codeOf` names a failed request's error code. */
  install(app: FastifyInstance, codeOf: (error: Error) => string): void;
  /** The request's span as the parent of the streams it starts (opaque to them); undefined: no span. */
  parentOf(request: FastifyRequest): unknown;
  /** A reader attached to `streamId` (a resume, a reattach): the request's span links to the stream's. */
  readerAttached(request: FastifyRequest, streamId: string): void;
  /** Spans lost so far: the export queue was full (OTEL_BSP_MAX_QUEUE_SIZE), or their export failed. */
  dropped(): number;
  /** Exports what is queued, within `timeoutMs`, and stops. */
  shutdown(timeoutMs: number): Promise<void>;
}

/** What the tracing needs of the server besides its configuration. */
export interface TracingDeps {
  log: SystemLog;
  /** JARVIS_INSTANCE_ID in a cluster (`jarvis.instance`, `service.instance.id`); undefined for one process. */
  instance: string | undefined;
  /** The cluster's Redis: where a stream's span context is kept for the other instances (links). */
  redis: Redis | undefined;
  /** How long a stream's span context is kept for links (the event log's retention). */
  retentionMs: number;
  /** The model server behind an upstream name (or the one backend): `server.address`, `server.port`. */
  upstreamUrl(upstream: string | undefined, backend: string): string | undefined;
}
