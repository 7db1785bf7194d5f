import type { FastifyInstance } from 'fastify';
import { ID_PATTERN } from '../../shared/ids.js';
import { compareCursors, formatCursor, FROM_START, parseCursor, type LogCursor } from '../../streams/eventLog/types.js';
import type { JarvisContext } from '../context.js';
import { HttpError } from '../errors.js';
import { clientKeyOf } from '../guards/clientKey.js';
import { ownerOf, principalOf, type Principal } from '../guards/principal.js';
import { replayFormat } from '../replayWriter.js';
import { replay } from '../streamReplay.js';

const STREAM_ID = ID_PATTERN;

/**
 * Reattach (README "Reattach"): `GET /v1/streams/{id}/events?after=<seq>` replays the
 * events after `after` (all when absent) and follows the stream to its terminal
 * event; `GET /v1/streams/{id}` tells where a stream is. Unknown, expired and
 * other owners' streams are 404 at once.
 */
export function streamRoutes(app: FastifyInstance, ctx: JarvisContext): void {
  app.get<{ Params: { id: string } }>('/v1/streams/:id', async (request) => {
    const info = await findStream(ctx, request.params.id, principalOf(request));
    return {
      stream_id: info.streamId,
      session_id: info.sessionId,
      model: info.model,
      state: info.terminal ? 'ended' : 'live',
      tokens: info.tokens,
      last_seq: info.tokens - 1,
      cursor: formatCursor(info.cursor),
      terminal: info.terminal ?? null,
    };
  });

  app.get<{ Params: { id: string }; Querystring: { after?: string } }>('/v1/streams/:id/events', async (request, reply) => {
    const info = await findStream(ctx, request.params.id, principalOf(request));
    const format = replayFormat(request.headers.accept);
    // A reconnecting EventSource keeps its URL and sends where it got to: that wins.
    const lastEventId = request.headers['last-event-id'];
    const after =
      format === 'sse' && typeof lastEventId === 'string' && lastEventId !== ''
        ? position(lastEventId, 'Last-Event-ID')
        : position(request.query.after, 'after');
    // The reader already has the terminal event: nothing more will ever come. For
    // SSE, 204 is also what tells EventSource to stop reconnecting.
    if (info.terminal && compareCursors(after, info.cursor) >= 0) return reply.code(204).send();
    // Counted per client (JARVIS_MAX_READERS_PER_CLIENT) until it ends: a key's readers cost no other key anything.
    const release = ctx.readers.admit(clientKeyOf(request));
    ctx.log.info('stream_reader_attached', { stream_id: info.streamId, session: info.sessionId, after: after.seq < -1 ? 'start' : formatCursor(after), format, live: !info.terminal });
    reply.hijack();
    try {
      await replay(ctx.streamLog, request.raw, reply.raw, { streamId: info.streamId, sessionId: info.sessionId, after, format, maxBufferBytes: ctx.config.limits.readerBufferBytes });
    } finally {
      release();
    }
  });
}

async function findStream(ctx: JarvisContext, id: string, principal: Principal) {
  const info = STREAM_ID.test(id) ? await ctx.streamLog.info(id) : undefined;
  // Another key's stream is as unknown as a stream that never was; an admin key reads any.
  if (!info || (info.owner !== ownerOf(principal) && !principal?.admin)) {
    throw new HttpError(404, 'stream_not_found', `no stream ${id.slice(0, 128)} (unknown, or ended more than JARVIS_STREAM_RETENTION_MS ago)`);
  }
  return info;
}

/** Where a reader is, as it sends it: `seq` or `seq:extra` (the SSE id it got last); absent: from the start. */
function position(raw: string | undefined, name: string): LogCursor {
  if (raw === undefined || raw === '') return FROM_START;
  const cursor = parseCursor(raw);
  if (!cursor) throw new HttpError(400, 'invalid_request', `${name} must be the last seq received (an integer >= -1), or an event id (seq:n), got ${JSON.stringify(raw.slice(0, 40))}`);
  return cursor;
}
