import type { FastifyInstance } from 'fastify';
import type { JarvisContext } from '../../context.js';
import { backendHttpError } from '../../backendErrors.js';
import { httpError } from '../../errors.js';
import { clientGoneSignal } from '../../http/clientGone.js';
import { resolveModel } from '../../streaming/defaultModel.js';
import { serveStream } from '../../streaming/serveStream.js';
import { sessionOf } from '../../streaming/session.js';
import { estimateInputTokens } from '../../../backends/promptEstimate.js';
import { MessageJsonWriter } from './jsonWriter.js';
import { checkRequired, toBackendRequest } from './request.js';
import { messagesBodySchema, type AnthropicMessagesBody } from './schemas.js';
import { MessagesSseWriter } from './sseWriter.js';

/** What the Messages routes read (`backend` and `defaultModel` live: the context itself is passed). */
export type AnthropicRoutesContext = Pick<JarvisContext, 'config' | 'log' | 'backend' | 'defaultModel' | 'shuttingDown' | 'images' | 'starter'>;

/**
 * Anthropic's Messages API (docs/anthropic.md): `POST /v1/messages` over the same stream
 * core as every route (session from `X-Session-Id`, supersede, Stop, client gone = upstream
 * closed), and `POST /v1/messages/count_tokens`. Every refusal on these routes, a guard's
 * too, is in Anthropic's error shape (src/server/errors.ts picks it by the route).
 */
export function anthropicRoutes(app: FastifyInstance, ctx: AnthropicRoutesContext): void {
  app.post<{ Body: AnthropicMessagesBody }>('/v1/messages', { schema: { body: messagesBodySchema }, config: { startsStream: true } }, async (request, reply) => {
    const body = request.body;
    const sessionId = sessionOf(request);
    if (ctx.shuttingDown) throw httpError('shutting_down');
    checkRequired(body);
    // One backend for the request's whole life, even if auto mode switches meanwhile.
    const backend = ctx.backend;
    // `model` runs; `asked` (the name sent, e.g. claude-sonnet-4-5 before JARVIS_MODEL_ALIASES) is the one the reply shows.
    const { model, asked } = await resolveModel(ctx, backend, body.model);
    const backendRequest = await ctx.images.prepare(request, reply, backend, toBackendRequest(body, model));
    const options = { sessionId, model: asked, maxReplyBytes: ctx.config.limits.maxReplyBytes };
    return serveStream(ctx.starter, request, reply, {
      sessionId,
      model,
      backend,
      request: backendRequest,
      // metadata.user_id: only logged, as OpenAI's `user`.
      user: typeof body.metadata?.user_id === 'string' ? body.metadata.user_id.slice(0, 256) : undefined,
      writer: (res, streamId, timing) =>
        body.stream === true ? new MessagesSseWriter(res, { ...options, streamId, timing }) : new MessageJsonWriter(res, { ...options, streamId, timing }),
    });
  });

  // Counted by the model's own tokenizer where the backend has one (the embedded engine), else estimated;
  // the `x-jarvis-token-count` header says which (docs/anthropic.md "count_tokens").
  app.post<{ Body: AnthropicMessagesBody }>('/v1/messages/count_tokens', { schema: { body: messagesBodySchema } }, async (request, reply) => {
    const body = request.body;
    checkRequired(body, false);
    const backend = ctx.backend;
    const { model } = await resolveModel(ctx, backend, body.model);
    const backendRequest = toBackendRequest({ ...body, max_tokens: 1 }, model);
    if (!backend.countTokens) {
      void reply.header('x-jarvis-token-count', 'estimate');
      return { input_tokens: estimateInputTokens(backendRequest) };
    }
    try {
      const tokens = await backend.countTokens(backendRequest, clientGoneSignal(reply));
      void reply.header('x-jarvis-token-count', 'exact');
      return { input_tokens: tokens };
    } catch (err) {
      throw backendHttpError(err);
    }
  });
}
