import { ROOT_CONTEXT, defaultTextMapGetter, defaultTextMapSetter, trace, type SpanContext } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Redis } from 'ioredis';
import type { TraceHeaders } from '../backends/types.js';
import { keys } from '../streams/cluster/redis/keys.js';

/** Streams whose span context this process keeps for links; older ones are asked of Redis, or lost. */
const KEPT = 10_000;

const propagator = new W3CTraceContextPropagator();

/** A span context as the W3C headers (the upstream's `traceparent`, the value kept in Redis). */
export function headersOf(context: SpanContext): TraceHeaders {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpanContext(ROOT_CONTEXT, context), carrier, defaultTextMapSetter);
  return { traceparent: carrier.traceparent ?? '', ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}) };
}

/** The span context that W3C headers name; undefined when they name none (absent, malformed). */
export function contextOf(headers: Record<string, string | string[] | undefined>): SpanContext | undefined {
  return trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter));
}

/**
 * Every stream's span context by stream id, for the spans that link to it: a successor's
 * (supersede) and a reader's (resume). Kept here for this process's streams, and in a cluster
 * also in Redis (`jarvis:trace:<stream>`, one SET per stream, for the log's retention), where an
 * instance finds a stream that ran on another.
 */
export class SpanContexts {
  private readonly recent = new Map<string, SpanContext>();

  constructor(
    private readonly redis: Redis | undefined,
    private readonly retentionMs: number,
  ) {}

  remember(streamId: string, context: SpanContext): void {
    this.recent.set(streamId, context);
    if (this.recent.size > KEPT) this.recent.delete(this.recent.keys().next().value as string);
    // Never awaited: a slow or absent Redis costs the stream nothing (the link is then lost).
    this.redis?.set(keys.trace(streamId), headersOf(context).traceparent, 'PX', Math.max(60_000, this.retentionMs)).catch(() => {});
  }

  async find(streamId: string): Promise<SpanContext | undefined> {
    const here = this.recent.get(streamId);
    if (here || !this.redis) return here;
    const traceparent = await this.redis.get(keys.trace(streamId)).catch(() => null);
    return traceparent ? contextOf({ traceparent }) : undefined;
  }
}
