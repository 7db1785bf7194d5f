import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Backend, BackendRequest } from '../../../../backends/types.js';
import { SESSION_HEADER } from '../../../../shared/events.js';
import type { NewStoredResponse, ResponseItem, StoredResponse } from '../../../../store/responses/types.js';
import type { JarvisContext } from '../../../context.js';
import { ownerOf, principalOf } from '../../../http/guards/principal.js';
import type { Admission } from '../../../streaming/starter.js';
import { sessionOf } from '../../../streaming/session.js';
import type { ResponseMeta } from '../types.js';
import { createStored, recordStored } from './recorder.js';
import { responseJson } from './routes.js';
import type { StoredContext } from './settle.js';
import { serveResponseEvents } from './sse.js';

/** What starting a stored response reads. */
export type StartContext = StoredContext & Pick<JarvisContext, 'starter'>;

export interface StoredStart {
  /** The stream id the response id was made from (responseIdOf). */
  streamId: string;
  meta: ResponseMeta;
  model: string;
  backend: Backend;
  request: BackendRequest;
  /** Every input item the model is given (the previous response's first), as stored. */
  input: ResponseItem[];
  previousResponseId: string | null;
}

/** The stored row of a response about to run. */
export function storedRow(ctx: StoredContext, admission: Admission, spec: StoredStart, background: boolean): NewStoredResponse {
  const now = Date.now();
  return {
    id: spec.meta.id,
    owner: admission.owner,
    status: background ? 'queued' : 'in_progress',
    background,
    streamId: admission.streamId,
    sessionId: admission.sessionId,
    fence: admission.fence,
    instance: ctx.config.redisUrl ? ctx.config.instanceId : null,
    previousResponseId: spec.previousResponseId,
    request: spec.meta as unknown as Record<string, unknown>,
    input: spec.input,
    createdAt: now,
    expiresAt: now + ctx.config.responsesTtlMs,
  };
}

/**
 * `background: true` (docs/responses.md "Background responses"): the response runs
 * as a stream of its own that outlives this request, like a conversation's answer
 * (no primary writer; its events go to the event log, in Redis in a cluster), and
 * is stored when it ends. Its session is the caller's X-Session-Id when sent (the
 * session rules apply: a newer prompt on it supersedes the response), else the
 * response id. Answers at once: the Response object (`queued`) as JSON, or with
 * `stream: true` its events, read from the log like any later reader's, so the
 * client's going away ends only its read.
 */
export async function startBackground(ctx: StartContext, request: FastifyRequest, reply: FastifyReply, spec: StoredStart, stream: boolean): Promise<unknown> {
  const owner = ownerOf(principalOf(request));
  const sessionId = request.headers[SESSION_HEADER] === undefined ? spec.meta.id : sessionOf(request);
  const admission = await ctx.starter.admit(request, owner, sessionId, spec.streamId);
  const row = storedRow(ctx, admission, spec, true);
  try {
    await createStored(ctx, row);
  } catch (err) {
    admission.release();
    throw err;
  }
  const { done } = ctx.starter.run(admission, { model: spec.model, backend: spec.backend, request: spec.request });
  void done.catch((err: unknown) => ctx.log.error('stream_internal_error', { trace: admission.streamId, error: err instanceof Error ? err.message : String(err) }));
  recordStored(ctx, row);
  const stored: StoredResponse = { ...row, response: null, updatedAt: row.createdAt };
  if (!stream) return responseJson(stored);
  reply.hijack();
  await serveResponseEvents(ctx, request.raw, reply.raw, stored, -1);
  return undefined;
}
