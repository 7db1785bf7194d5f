import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Backend, BackendRequest } from '../backends/types.js';
import { newStreamId } from '../streams/chatStream.js';
import type { EventWriter } from '../streams/eventWriter.js';
import { runStream } from '../streams/runStream.js';
import { StreamTiming } from '../streams/streamTiming.js';
import type { JarvisContext } from './context.js';
import { HttpError, httpError } from './errors.js';
import { clientKeyOf } from './guards/clientKey.js';
import { ownerOf, principalOf } from './guards/principal.js';
import { openLoggedStream } from './loggedStream.js';

export interface StreamedReply {
  sessionId: string;
  model: string;
  request: BackendRequest;
  /** The backend read once when the request came (auto mode may switch ctx.backend meanwhile); default ctx.backend. */
  backend?: Backend;
  /** The OpenAI `user` field: only logged (it names no session). */
  user?: string;
  /** The protocol's writer for this response (it may send its headers now, or at its first event); `timing` is for its Server-Timing. */
  writer(res: ServerResponse, streamId: string, timing: StreamTiming): EventWriter;
}

/**
 * Serves one generation as a stream under the session rules (docs/api.md, the session rules), whatever
 * the wire format: takes over the response, runs the stream to its one end, and
 * cancels it (`client_closed`) when the client goes.
 *
 * Not `async`, and callers return its promise: an idle stream then holds no
 * suspended frame of this function or of the route's handler (with their locals
 * and promise reactions) for its whole life, only runStream's.
 */
export function serveStream(ctx: JarvisContext, request: FastifyRequest, reply: FastifyReply, spec: StreamedReply): Promise<void> {
  if (ctx.shuttingDown) throw httpError('shutting_down');
  const down = ctx.registry.unavailable();
  if (down) throw new HttpError('cluster_unavailable', down);
  // The session belongs to the caller's key: two keys never share a session, whatever its id.
  const owner = ownerOf(principalOf(request));
  // Admitted before the response is taken over, so a refusal is a plain 429.
  const release = ctx.caps.admit(clientKeyOf(request), owner, spec.sessionId);
  const streamId = newStreamId();
  const timing = new StreamTiming(request.receivedAt);
  reply.hijack();
  const res = reply.raw;
  const writer = spec.writer(res, streamId, timing);
  // Logged like every stream, so it can also be read at /v1/streams/{id}/events;
  // this response stays its primary reader: its back-pressure and its closing count.
  const stream = openLoggedStream(ctx, { streamId, sessionId: spec.sessionId, owner, user: spec.user, model: spec.model, primary: writer, timing });
  const watchClient = () => {
    res.on('close', () => {
      if (!res.writableFinished) stream.cancel('client_closed');
    });
    // Gone before we looked (while the body was parsed): no 'close' will come.
    if (request.raw.socket.destroyed) stream.cancel('client_closed');
  };
  return runStream(stream, spec.request, {
    registry: ctx.registry,
    backend: spec.backend ?? ctx.backend,
    log: ctx.log,
    firstTokenTimeoutMs: ctx.config.firstTokenTimeoutMs,
    metrics: ctx.metrics,
    pacer: ctx.pacer,
    limits: ctx.config.limits,
    onStart: watchClient,
    onEnd: release,
  });
}
