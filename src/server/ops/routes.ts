import type { FastifyInstance } from 'fastify';
import { OPS_FEED_PATH, type LifecycleRecord } from '../../shared/lifecycle.js';
import type { JarvisContext } from '../context.js';
import { httpError } from '../errors.js';
import { ClientCap } from '../fairShare/clientCap.js';
import { clientKeyOf } from '../http/guards/clientKey.js';
import { writeStreamHead } from '../http/streamHead.js';

/** The retained records as one JSON array (scripts, tests): what a new feed reader is replayed. */
export const OPS_RECORDS_PATH = '/v1/admin/ops/records';

/**
 * The live timeline's feed (docs/observability.md "The feed"), admins only when keys are
 * configured: `GET /v1/admin/ops/events` as server-sent events (src/shared/lifecycle.ts has
 * the contract), bounded in readers per client and in all.
 */
export function opsRoutes(app: FastifyInstance, ctx: Pick<JarvisContext, 'config' | 'ops'>): void {
  const admin = { config: { access: 'admin' as const } };
  const { maxReaders, maxReadersPerClient } = ctx.config.ops;
  const perClient = new ClientCap({
    max: maxReadersPerClient,
    code: 'too_many_ops_readers_for_client',
    what: 'ops-feed readers',
    variable: 'JARVIS_OPS_MAX_READERS_PER_CLIENT',
  });

  app.get(OPS_FEED_PATH, admin, async (request, reply) => {
    const hub = ctx.ops;
    if (!hub.open) throw httpError('shutting_down');
    if (hub.readerCount >= maxReaders) throw httpError('too_many_ops_readers', { max: maxReaders }, { headers: { 'retry-after': '5' } });
    const client = clientKeyOf(request);
    const release = perClient.admit(client);
    reply.hijack();
    const res = reply.raw;
    writeStreamHead(res, 200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    const lastId = request.headers['last-event-id'];
    const detach = hub.attach(res, client, typeof lastId === 'string' ? lastId : undefined);
    try {
      await new Promise<void>((resolve) => {
        if (res.destroyed) resolve();
        else res.once('close', resolve);
      });
    } finally {
      detach();
      release();
    }
  });

  app.get(OPS_RECORDS_PATH, admin, async (): Promise<LifecycleRecord[]> => ctx.ops.ring.records());
}
