import type { FastifyInstance } from 'fastify';
import type { JarvisContext } from '../context.js';
import type { FeedEvent } from '../conversationFeed.js';
import { ownerOf, principalOf } from '../guards/principal.js';
import { replayFormat } from '../replayWriter.js';
import { writeStreamHead } from '../streamHead.js';

/** A follower this far behind is cut off (it reconnects and lists again) rather than buffered without bound. */
const MAX_QUEUED_BYTES = 1 << 20;
/** Keeps proxies from closing a quiet follower. */
const PING_MS = 15_000;

/**
 * `GET /v1/conversations/events`: the caller's conversation changes as they
 * happen (NDJSON, or SSE with `Accept: text/event-stream`), from now on. A client
 * lists first, then follows; after a drop it lists again.
 */
export function conversationEventRoutes(app: FastifyInstance, ctx: JarvisContext): void {
  app.get('/v1/conversations/events', async (request, reply) => {
    const owner = ownerOf(principalOf(request));
    const sse = replayFormat(request.headers.accept) === 'sse';
    reply.hijack();
    const res = reply.raw;
    writeStreamHead(res, 200, {
      'content-type': sse ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    const send = (event: FeedEvent | { type: 'ready' | 'ping' }) => {
      if (res.destroyed || res.writableEnded) return;
      if (res.writableLength > MAX_QUEUED_BYTES) {
        ctx.log.warn('conversation_follower_dropped', { key: owner || undefined, queued_bytes: res.writableLength });
        res.destroy();
        return;
      }
      const json = JSON.stringify(event);
      res.write(sse ? `data: ${json}\n\n` : `${json}\n`);
    };
    const unsubscribe = ctx.conversationFeed.subscribe(owner, send);
    const ping = setInterval(() => send({ type: 'ping' }), PING_MS);
    send({ type: 'ready' });
    await new Promise<void>((resolve) => {
      res.once('close', resolve);
      // Shutdown ends followers too (they would otherwise hold `close` open).
      void ctx.conversationFeed.closed.then(() => res.end());
    });
    clearInterval(ping);
    unsubscribe();
  });
}
