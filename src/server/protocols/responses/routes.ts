import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Backend } from '../../../backends/types.js';
import type { BackendRequest } from '../../../backends/types.js';
import type { JarvisContext } from '../../context.js';
import { httpError } from '../../errors.js';
import { ownerOf, principalOf } from '../../http/guards/principal.js';
import { resolveModel } from '../../streaming/defaultModel.js';
import { serveStream } from '../../streaming/serveStream.js';
import { sessionOf } from '../../streaming/session.js';
import { newStreamId } from '../../../streams/chatStream.js';
import { echoOf, referencedIds, refuseWhatCannotBeHonoured, toBackendRequest } from './request.js';
import { responsesBodySchema, type ResponsesBody } from './schemas.js';
import { responseIdOf, type OutputItem, type ResponseMeta, type ResponseObject } from './types.js';
import { ResponsesJsonWriter, ResponsesSseWriter } from './writers.js';

/** What the Responses route reads (`backend`, `defaultModel`, `shuttingDown` live: the context itself is passed). */
export type ResponsesRoutesContext = Pick<JarvisContext, 'config' | 'log' | 'backend' | 'defaultModel' | 'shuttingDown' | 'images' | 'starter'>;

/** A response as the route admitted it: what a store keeps beside its events. */
export interface AdmittedResponse {
  meta: ResponseMeta;
  streamId: string;
  sessionId: string;
  /** The caller's key (principal.ts ownerOf): stored responses are scoped to it. */
  owner: string;
  /** The request's own body, as sent (GET /v1/responses/{id}/input_items reads its input). */
  body: ResponsesBody;
  /** What the backend was asked. */
  request: BackendRequest;
}

/**
 * Stored responses (docs/responses.md "Stored responses"): the hook a store plugs into
 * the route. Without one nothing is kept, `previous_response_id` and `background` are
 * refused, and an `item_reference` can name only a reasoning item (dropped).
 */
export interface ResponsesStore {
  /** True when the store serves `previous_response_id` and `background` (the route then passes them to `prepare`). */
  readonly servesStored: boolean;
  /** The stored output items these ids name, under `owner` (for `item_reference` input items); missing ids are left out. */
  items?(ids: string[], owner: string): Promise<Map<string, OutputItem>>;
  /** Called when a response with `store` true is admitted, before its first event. */
  created?(response: AdmittedResponse): void;
  /** Called once with the final Response object of a response with `store` true, whatever its outcome. */
  finished?(response: AdmittedResponse, final: ResponseObject): void;
  /**
   * Before the request is mapped: the body the model is given (`previous_response_id`: the
   * previous response's input and output, then this input) and the items `item_reference`s may name.
   */
  prepare?(body: ResponsesBody, owner: string): Promise<{ body: ResponsesBody; references: Map<string, OutputItem> }>;
  /** `background: true`: runs the response apart from this request and answers at once (stored/background.ts). */
  background?(request: FastifyRequest, reply: FastifyReply, start: BackgroundStart): Promise<unknown>;
}

/** A background response as the route prepared it. */
export interface BackgroundStart {
  streamId: string;
  meta: ResponseMeta;
  model: string;
  backend: Backend;
  request: BackendRequest;
  body: ResponsesBody;
}

export interface ResponsesRoutesOptions {
  store?: ResponsesStore;
}

/** `POST /v1/responses`: OpenAI's Responses API over the stream core (docs/responses.md). */
export function responsesRoutes(app: FastifyInstance, ctx: ResponsesRoutesContext, options: ResponsesRoutesOptions = {}): void {
  const store = options.store;
  app.post<{ Body: ResponsesBody }>('/v1/responses', { schema: { body: responsesBodySchema }, config: { startsStream: true } }, async (request, reply) => {
    const sent = request.body;
    const sessionId = sessionOf(request);
    if (ctx.shuttingDown) throw httpError('shutting_down');
    refuseWhatCannotBeHonoured(sent, { stored: store?.servesStored === true });
    const owner = ownerOf(principalOf(request));
    const prepared = store?.prepare ? await store.prepare(sent, owner) : { body: sent, references: new Map<string, OutputItem>() };
    const body = prepared.body;
    const ids = referencedIds(body).filter((id) => !prepared.references.has(id));
    const references = ids.length > 0 && store?.items ? new Map([...prepared.references, ...(await store.items(ids, owner))]) : prepared.references;
    // One backend for the request's whole life, even if auto mode switches meanwhile.
    const backend = ctx.backend;
    // `model` runs; `asked` (the name sent, before JARVIS_MODEL_ALIASES) is the one the reply shows.
    const { model, asked } = await resolveModel(ctx, backend, body.model);
    const backendRequest = await ctx.images.prepare(request, reply, backend, toBackendRequest(body, model, references));
    const echo = echoOf(body);
    const createdAt = Math.floor(Date.now() / 1000);
    const keep = echo.store && store !== undefined;
    if (body.background === true && store?.background) {
      const streamId = newStreamId();
      const meta: ResponseMeta = { id: responseIdOf(streamId), created_at: createdAt, model, echo };
      return store.background(request, reply, { streamId, meta, model, backend, request: backendRequest, body });
    }
    return serveStream(ctx.starter, request, reply, {
      sessionId,
      model,
      backend,
      request: backendRequest,
      user: body.user ?? body.safety_identifier ?? undefined,
      writer: (res, streamId, timing) => {
        const meta: ResponseMeta = { id: responseIdOf(streamId), created_at: createdAt, model: asked, echo };
        const admitted: AdmittedResponse = { meta, streamId, sessionId, owner, body, request: backendRequest };
        if (keep) store.created?.(admitted);
        const writerOptions = {
          streamId,
          sessionId,
          meta,
          maxReplyBytes: ctx.config.limits.maxReplyBytes,
          timing,
          ...(keep && store.finished ? { onFinished: (final: ResponseObject) => store.finished?.(admitted, final) } : {}),
        };
        return body.stream === true ? new ResponsesSseWriter(res, writerOptions) : new ResponsesJsonWriter(res, writerOptions);
      },
    });
  });
}
