import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { StreamTracer } from '../streams/streamTracer.js';

/**
 * OpenTelemetry traces as the server uses them (docs/observability.md "Traces (OpenTelemetry)").
 * Loaded only when configured (openTracing); the server holds `undefined` otherwise, so with
 * tracing off none of this runs, per request or per stream.
 */
export interface Tracing extends StreamTracer {
  /** Adds the request spans (an `onRequest` hook, before the guards: refusals are traced too). */
  install(app: FastifyInstance): void;
  /** The request's span as the parent of the streams it starts (opaque to them); undefined: no span. */
  parentOf(request: FastifyRequest): unknown;
  /** A reader attached to `streamId` (a resume, a reattach): the request's span links to the stream's. */
  readerAttached(request: FastifyRequest, streamId: string): void;
  /** Spans lost so far: the export queue was full (OTEL_BSP_MAX_QUEUE_SIZE), or their export failed. */
  dropped(): number;
  /** Exports what is queued, within `timeoutMs`, and stops. */
  shutdown(timeoutMs: number): Promise<void>;
}
