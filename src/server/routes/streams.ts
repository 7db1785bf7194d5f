import type { FastifyInstance } from 'fastify';
import { FROM_START } from '../../streams/eventLog/types.js';
import type { JarvisContext } from '../context.js';
import { HttpError } from '../errors.js';
import { ownerOf } from '../owner.js';
import { replayFormat } from '../replayWriter.js';
import { replay } from '../streamReplay.js';

const STREAM_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Reattach (issue 12 §4): `GET /v1/streams/{id}/events?after=<seq>` replays the
 * events after `after` (all when absent) and follows the stream to its terminal
 * event; `GET /v1/streams/{id}` tells where a stream is. Unknown, expired and
 * other owners' streams are 404 at once.
 */
export function streamRoutes(app: FastifyInstance, ctx: JarvisContext): void {
  app.get<{ Params: { id: string } }>('/v1/streams/:id', async (request) => {
    const info = await findStream(ctx, request.params.id, ownerOf(request));
    return {
      stream_id: info.streamId,
      session_id: info.sessionId,
      model: info.model,
      state: info.terminal ? 'ended' : 'live',
      tokens: info.tokens,
      last_seq: info.tokens - 1,
      terminal: info.terminal ?? null,
    };
  });

  app.get<{ Params: { id: string }; Querystring: { after?: string } }>('/v1/streams/:id/events', async (request, reply) => {
    const info = await findStream(ctx, request.params.id, ownerOf(request));
    const format = replayFormat(request.headers.accept);
    // A reconnecting EventSource keeps its URL and sends where it got to: that wins.
    const lastEventId = request.headers['last-event-id'];
    const after = Math.max(
      position(request.query.after, 'after'),
      format === 'sse' && typeof lastEventId === 'string' && lastEventId !== '' ? position(lastEventId, 'Last-Event-ID') : FROM_START,
    );
    // The reader already has the terminal event: nothing more will ever come. For
    // SSE, 204 is also what tells EventSource to stop reconnecting.
    if (info.terminal && after >= info.tokens) return reply.code(204).send();
    ctx.log.info('stream_reader_attached', { stream_id: info.streamId, session: info.sessionId, after, format, live: !info.terminal });
    reply.hijack();
    await replay(ctx.streamLog, request.raw, reply.raw, { streamId: info.streamId, sessionId: info.sessionId, after, format });
  });
}

async function findStream(ctx: JarvisContext, id: string, owner: string) {
  const info = STREAM_ID.test(id) ? await ctx.streamLog.info(id) : undefined;
  if (!info || info.owner !== owner) {
    throw new HttpError(404, 'stream_not_found', `no stream ${id.slice(0, 128)} (unknown, or ended more than JARVIS_STREAM_RETENTION_MS ago)`);
  }
  return info;
}

/** A log position as a client sends it: an integer >= -1 (-1: before the first token). */
function position(raw: string | undefined, name: string): number {
  if (raw === undefined || raw === '') return FROM_START;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < -1) throw new HttpError(400, 'invalid_request', `${name} must be an integer >= -1 (the last seq received), got ${JSON.stringify(raw.slice(0, 40))}`);
  return n;
}
