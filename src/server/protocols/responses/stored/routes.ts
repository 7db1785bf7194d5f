import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LIVE_STATUSES, type StoredResponse } from '../../../../store/responses/types.js';
import { HttpError } from '../../../errors.js';
import { ownerOf, principalOf } from '../../../http/guards/principal.js';
import { storeCall } from '../../../storeErrors.js';
import { ResponsesEncoder } from '../encoder.js';
import { encodeLog } from './logEncoding.js';
import { endOf, metaOf, settle, type StoredContext } from './settle.js';
import { serveResponseEvents } from './sse.js';

// The stored responses of the Responses API (docs/responses.md "Stored responses"):
// read, delete, list the input items, cancel. Every route answers only the caller's
// key's responses; another key's is a 404, as an unknown one.

const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 256 } } } as const;

/** The Response object as stored, or as it stands while its stream runs. */
export function responseJson(row: StoredResponse): Record<string, unknown> {
  if (row.response) return row.response;
  return { ...new ResponsesEncoder(metaOf(row), { startingAfter: Infinity }).response(), status: row.status };
}

/** The caller's response `id`, or a 404 in OpenAI's shape. */
export async function callersResponse(ctx: StoredContext, request: FastifyRequest, id: string): Promise<StoredResponse> {
  const row = await storeCall(ctx.store.responses.get(ownerOf(principalOf(request)), id));
  if (!row) throw notFound(id);
  return row;
}

export function notFound(id: string): HttpError {
  return new HttpError('not_found', `No response found with id '${id.slice(0, 128)}' (unknown, deleted, expired, or another key's).`, { param: 'response_id' });
}

export function storedResponsesRoutes(app: FastifyInstance, ctx: StoredContext): void {
  app.get<{ Params: { id: string }; Querystring: { stream?: string; starting_after?: string } }>(
    '/v1/responses/:id',
    {
      schema: {
        params: idParam,
        querystring: { type: 'object', properties: { stream: { type: 'string', enum: ['true', 'false'] }, starting_after: { type: 'string', pattern: '^(-1|\\d{1,15})$' }, include: {} } },
      },
    },
    async (request, reply) => {
      const row = await callersResponse(ctx, request, request.params.id);
      if (request.query.stream !== 'true') return responseJson(await settle(ctx, row));
      reply.hijack();
      await serveResponseEvents(ctx, request.raw, reply.raw, row, Number(request.query.starting_after ?? -1));
    },
  );

  app.delete<{ Params: { id: string } }>('/v1/responses/:id', { schema: { params: idParam } }, async (request) => {
    const row = await callersResponse(ctx, request, request.params.id);
    // A response still running is stopped too: nothing would read or store it any more.
    if (LIVE_STATUSES.has(row.status)) await ctx.registry.stop(row.owner, row.sessionId, 'stopped').catch(() => false);
    if (!(await storeCall(ctx.store.responses.delete(row.owner, row.id)))) throw notFound(row.id);
    return { id: row.id, object: 'response.deleted', deleted: true };
  });

  app.get<{ Params: { id: string }; Querystring: { order?: 'asc' | 'desc'; after?: string; limit?: string } }>(
    '/v1/responses/:id/input_items',
    {
      schema: {
        params: idParam,
        querystring: {
          type: 'object',
          properties: { order: { type: 'string', enum: ['asc', 'desc'] }, after: { type: 'string', maxLength: 256 }, limit: { type: 'string', pattern: '^([1-9]|[1-9]\\d|100)$' }, include: {} },
        },
      },
    },
    async (request) => {
      const { order = 'desc', after } = request.query;
      const limit = Number(request.query.limit ?? 20);
      const owner = ownerOf(principalOf(request));
      const page = await storeCall(ctx.store.responses.inputItems(owner, request.params.id, { order, limit, ...(after !== undefined ? { after } : {}) }));
      if (!page) throw notFound(request.params.id);
      const ids = page.items.map((i) => (typeof i.id === 'string' ? i.id : null));
      return { object: 'list', data: page.items, first_id: ids[0] ?? null, last_id: ids.at(-1) ?? null, has_more: page.hasMore };
    },
  );

  app.post<{ Params: { id: string } }>('/v1/responses/:id/cancel', { schema: { params: idParam } }, async (request) => {
    const row = await settle(ctx, await callersResponse(ctx, request, request.params.id));
    if (!row.background) throw new HttpError('invalid_request', 'Only responses created with background: true can be cancelled; a foreground response stops when its client closes the connection (or at POST /v1/sessions/{id}/stop).', { param: 'response_id' });
    // Ended already: answered unchanged, as OpenAI does.
    if (!LIVE_STATUSES.has(row.status)) return responseJson(row);
    // The coordinator's Stop: wherever the stream runs, its instance closes the upstream (docs/clusters.md).
    await ctx.registry.stop(row.owner, row.sessionId, 'stopped');
    const wait = AbortSignal.timeout(ctx.config.cancelTimeoutMs + ctx.config.leaseMs + 5000);
    const encoder = await encodeLog(ctx.streamLog, row.streamId, metaOf(row), wait);
    if (encoder.ended) {
      await storeCall(ctx.store.responses.finish(row.id, row.fence, endOf(encoder.response())));
      return encoder.response();
    }
    return responseJson(await settle(ctx, row));
  });
}
