import type { FastifyInstance } from 'fastify';
import { ID_PATTERN } from '../../shared/ids.js';
import { compareCursors, formatCursor, FROM_START, parseCursor, type LogCursor } from '../../streams/eventLog/types.js';
import type { JarvisContext } from '../context.js';
import { HttpError, httpError } from '../errors.js';
import { ClientCap } from '../fairShare/clientCap.js';
import { clientKeyOf } from '../http/guards/clientKey.js';
import { ownerOf, principalOf, type Principal } from '../http/guards/principal.js';
import { replayFormat } from '../streaming/replayWriter.js';
import { replay } from '../streaming/replay.js';

const STREAM_ID = ID_PATTERN;

/**
 * Reattach (docs/conversations.md): `GET /v1/streams/{id}/events?after=<seq>` replays the
 * events after `after` (all when absent) and follows the stream to its terminal
 * event; `GET /v1/streams/{id}` tells where a stream is. Unknown, expired and
 * other owners' streams are 404 at once.
 */
export function streamRoutes(app: FastifyInstance, ctx: Pick<JarvisContext, 'config' | 'log' | 'streamLog' | 'tracing'>): void {
  /** JARVIS_MAX_READERS_PER_CLIENT: reattach readers per client. */
  const readers = new ClientCap({ max: ctx.config.limits.maxReadersPerClient, code: 'too_many_readers_for_client', what: 'stream readers', variable: 'JARVIS_MAX_READERS_PER_CLIENT' });
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
    const release = readers.admit(clientKeyOf(request));
    ctx.log.info('stream_reader_attached', { stream_id: info.streamId, session: info.sessionId, after: after.seq < -1 ? 'start' : formatCursor(after), format, live: !info.terminal });
    ctx.tracing?.readerAttached(request, info.streamId);
    reply.hijack();
    try {
      await replay(ctx.streamLog, request.raw, reply.raw, { streamId: info.streamId, sessionId: info.sessionId, after, format, maxBufferBytes: ctx.config.limits.readerBufferBytes });
    } finally {
      release();
    }
  });
}

async function findStream(ctx: Pick<JarvisContext, 'streamLog'>, id: string, principal: Principal) {
  const info = STREAM_ID.test(id) ? await ctx.streamLog.info(id) : undefined;
  // Another key's stream is as unknown as a stream that never was; an admin key reads any.
  if (!info || (info.owner !== ownerOf(principal) && !principal?.admin)) {
    throw httpError('stream_not_found', { id });
  }
  return info;
}

/** Where a reader is, as it sends it: `seq` or `seq:extra` (the SSE id it got last); absent: from the start. */
function position(raw: string | undefined, name: string): LogCursor {
  if (raw === undefined || raw === '') return FROM_START;
  const cursor = parseCursor(raw);
  if (!cursor) throw new HttpError('invalid_request', `${name} must be the last seq received (an integer >= -1), or an event id (seq:n), got ${JSON.stringify(raw.slice(0, 40))}`);
  return cursor;
}
