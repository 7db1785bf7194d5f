import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Backend, BackendRequest } from '../../backends/types.js';
import type { EventWriter } from '../../streams/eventWriter.js';
import { StreamTiming } from '../../streams/streamTiming.js';
import { ownerOf, principalOf } from '../http/guards/principal.js';
import type { Admission, StreamStarter } from './starter.js';
import { refuseUnserved } from '../backendFeatures.js';

export interface StreamedReply {
  sessionId: string;
  model: string;
  request: BackendRequest;
  /** The backend read once when the request came (auto mode may switch ctx.backend meanwhile). */
  backend: Backend;
  /** The OpenAI `user` field: only logged (it names no session). */
  user?: string;
  /** The protocol's writer for this response (it may send its headers now, or at its first event); `timing` is for its Server-Timing. */
  writer(res: ServerResponse, streamId: string, timing: StreamTiming): EventWriter;
}

/**
 * Serves one generation as a stream under the session rules (docs/api.md), whatever
 * the wire format: takes over the response, runs the stream to its one end, and
 * cancels it (`client_closed`) when the client goes.
 *
 * Not `async`, and callers return its promise: an idle stream then holds no
 * suspended frame of this function or of the route's handler (with their locals
 * and promise reactions) for its whole life, only runStream's.
 */
export function serveStream(starter: StreamStarter, request: FastifyRequest, reply: FastifyReply, spec: StreamedReply): Promise<void> {
  // What the backend cannot give (logprobs, n) is a 400 naming it, before anything starts.
  refuseUnserved(spec.backend, spec.request);
  // The session belongs to the caller's key: two keys never share a session, whatever its id.
  const owner = ownerOf(principalOf(request));
  // Admitted before the response is taken over, so a refusal is a plain 429 (or 503).
  return starter.admit(request, owner, spec.sessionId).then((admission) => serveAdmitted(starter, request, reply, spec, admission));
}

function serveAdmitted(starter: StreamStarter, request: FastifyRequest, reply: FastifyReply, spec: StreamedReply, admission: Admission): Promise<void> {
  const timing = new StreamTiming(request.receivedAt);
  reply.hijack();
  const res = reply.raw;
  // Logged like every stream, so it can also be read at /v1/streams/{id}/events;
  // this response stays its primary reader: its back-pressure and its closing count.
  const writer = spec.writer(res, admission.streamId, timing);
  // Cancelled (`client_closed`) when its client goes, watched from `stream_start`.
  return starter.run(admission, { model: spec.model, backend: spec.backend, request: spec.request, user: spec.user, primary: writer, timing, client: res }).done;
}
