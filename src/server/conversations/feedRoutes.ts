import type { FastifyInstance } from 'fastify';
import type { JarvisContext } from '../context.js';
import { READY_EVENT, type EncodedFeedEvent } from './feed.js';
import { ClientCap } from '../fairShare/clientCap.js';
import { clientKeyOf } from '../http/guards/clientKey.js';
import { ownerOf, principalOf } from '../http/guards/principal.js';
import { replayFormat } from '../streaming/replayWriter.js';
import { writeStreamHead } from '../http/streamHead.js';

/**
 * `GET /v1/conversations/events`: the caller's conversation changes as they
 * happen (NDJSON, or SSE with `Accept: text/event-stream`), from now on. A client
 * lists first, then follows; after a drop it lists again.
 *
 * Bounded per client (JARVIS_MAX_FOLLOWERS_PER_CLIENT, else `429`) and per
 * follower: one that does not read is cut off once it has
 * JARVIS_FOLLOWER_BUFFER_BYTES unsent and the next event would add to them (it
 * sees its response end, reconnects and lists again), rather than buffered
 * without bound. Every follower is sent the same encoded bytes (EncodedFeedEvent).
 */
export function conversationEventRoutes(app: FastifyInstance, ctx: Pick<JarvisContext, 'config' | 'conversationFeed'>): void {
  /** JARVIS_MAX_FOLLOWERS_PER_CLIENT: the feed's followers per client. */
  const followers = new ClientCap({
    max: ctx.config.limits.maxFollowersPerClient,
    code: 'too_many_followers_for_client',
    what: 'conversation-feed followers',
    variable: 'JARVIS_MAX_FOLLOWERS_PER_CLIENT',
  });
  const maxBuffered = ctx.config.limits.followerBufferBytes;
  app.get('/v1/conversations/events', async (request, reply) => {
    const owner = ownerOf(principalOf(request));
    const release = followers.admit(clientKeyOf(request));
    const sse = replayFormat(request.headers.accept) === 'sse';
    reply.hijack();
    const res = reply.raw;
    writeStreamHead(res, 200, {
      'content-type': sse ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    const send = (event: EncodedFeedEvent): boolean => {
      if (res.destroyed || res.writableEnded) return true;
      const bytes = event.bytes(sse);
      // A follower that has read everything takes any one event, however large;
      // one already behind is dropped once this event would take it past the bound.
      const queued = res.writableLength;
      if (queued > 0 && queued + bytes.length > maxBuffered) {
        res.destroy();
        return false;
      }
      res.write(bytes);
      return true;
    };
    const unsubscribe = ctx.conversationFeed.subscribe(owner, send);
    send(READY_EVENT);
    try {
      await new Promise<void>((resolve) => {
        res.once('close', resolve);
        // Shutdown ends followers too (they would otherwise hold `close` open).
        void ctx.conversationFeed.closed.then(() => res.end());
      });
    } finally {
      unsubscribe();
      release();
    }
  });
}
