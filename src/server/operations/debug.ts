import type { FastifyInstance } from 'fastify';
import type { LingeringWork } from '../../backends/upstream/upstreamLink.js';
import type { JarvisContext } from '../context.js';
import { httpError } from '../errors.js';
import { ownerOf, principalOf, seesAll } from '../http/guards/principal.js';
import { PromMetrics } from './metrics.js';

/** One live stream as `GET /debug/streams` shows it (read by `jarvis diagnose` and `jarvis matrix`). */
export interface DebugStream {
  /** The API key (its name) the stream belongs to; null without keys. */
  key: string | null;
  session_id: string;
  stream_id: string;
  model: string;
  state: string;
  age_ms: number;
  tokens: number;
  upstream_open: boolean;
  first_token_ms: number | null;
  /** Several model servers: the one answering it (absent while it waits in a queue, or with one server). */
  upstream?: string;
  /** Several model servers: it waits in a queue for one (docs/upstreams.md "Queues"). */
  queued?: boolean;
  /** Cluster mode: the instance running the stream. */
  instance?: string;
}

export interface DebugStreamsResponse {
  count: number;
  streams: DebugStream[];
  /**
   * Engine work still running after its stream ended (docs/operations.md "Stop at the engine"):
   * this instance's, as its backend knows it; empty when the backend cannot tell.
   */
  lingering: LingeringWork[];
}

/**
 * Live state for operators: what is streaming right now, and the Prometheus metrics.
 * With keys, a caller sees only its own key's streams (an admin key sees all), and
 * `/metrics` needs an admin key.
 */
export function debugRoutes(app: FastifyInstance, ctx: Pick<JarvisContext, 'config' | 'registry' | 'metrics' | 'clusterStreams' | 'backend'>): void {
  // Synchronous like /health: a snapshot of the registry, no waiting on any stream.
  app.get('/debug/streams', async (request): Promise<DebugStreamsResponse> => {
    const now = Date.now();
    const principal = principalOf(request);
    // Only an operator's view: a stream id of another key's work is not for every key to see.
    const lingering = seesAll(principal) ? (ctx.backend.lingeringWork?.() ?? []) : [];
    // Cluster mode, an admin key: every instance's streams (the others' as they published them, ≤ lease/3 ago).
    if (ctx.clusterStreams && principal?.admin) {
      const rows = await ctx.clusterStreams();
      const streams = rows.map(({ created_at, ...row }) => ({ ...row, age_ms: now - created_at }));
      return { count: streams.length, streams, lingering };
    }
    const visible = seesAll(principal) ? ctx.registry.list() : ctx.registry.list(ownerOf(principal));
    const streams = visible.map((s) => ({
      key: s.owner === '' ? null : s.owner,
      session_id: s.sessionId,
      stream_id: s.id,
      model: s.model,
      state: s.state,
      age_ms: now - s.createdAt,
      tokens: s.tokens,
      upstream_open: s.upstreamOpen,
      first_token_ms: s.firstTokenMs === undefined ? null : Math.round(s.firstTokenMs),
      ...(s.upstream ? { upstream: s.upstream } : {}),
      ...(s.inQueue ? { queued: true } : {}),
      ...(ctx.clusterStreams ? { instance: ctx.config.instanceId } : {}),
    }));
    return { count: streams.length, streams, lingering };
  });

  app.get('/metrics', { config: { access: 'admin' } }, async (_request, reply) => {
    const metrics = ctx.metrics;
    if (!(metrics instanceof PromMetrics)) throw httpError('metrics_disabled');
    const text = await metrics.text();
    return reply.type(metrics.contentType).send(text);
  });
}
