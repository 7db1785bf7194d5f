import type { FastifyInstance } from 'fastify';
import type { JarvisContext } from '../context.js';
import { defaultModel } from '../defaultModel.js';
import { httpError } from '../errors.js';
import { negotiateFormat, openWriter } from '../protocols/negotiate.js';
import { chatBodySchema, type OpenAIChatBody } from '../protocols/openai/schema.js';
import { toBackendRequest } from '../protocols/openai/toBackendRequest.js';
import { serveStream } from '../serveStream.js';
import { sessionOf } from '../session.js';

export function chatRoutes(app: FastifyInstance, ctx: JarvisContext): void {
  app.post<{ Body: OpenAIChatBody }>('/v1/chat/completions', { schema: { body: chatBodySchema }, config: { startsStream: true } }, async (request, reply) => {
    const body = request.body;
    const sessionId = sessionOf(request);
    if (ctx.shuttingDown) throw httpError('shutting_down');
    // One backend for the request's whole life, even if auto mode switches meanwhile.
    const backend = ctx.backend;
    const model = body.model ?? (await defaultModel(ctx, backend));
    const backendRequest = await ctx.images.prepare(request, reply, backend, toBackendRequest(body, model));
    return serveStream(ctx, request, reply, {
      sessionId,
      model,
      backend,
      request: backendRequest,
      user: body.user ?? undefined,
      writer: (res, streamId, timing) =>
        openWriter(negotiateFormat(request.headers, body.stream), res, {
          streamId,
          sessionId,
          model,
          includeUsage: body.stream_options?.include_usage === true,
          maxReplyBytes: ctx.config.limits.maxReplyBytes,
          timing,
        }),
    });
  });
}
