import type { FastifyInstance } from 'fastify';
import { ChatStream, newStreamId } from '../../streams/chatStream.js';
import { runStream } from '../../streams/runStream.js';
import type { JarvisContext } from '../context.js';
import { defaultModel } from '../defaultModel.js';
import { HttpError } from '../errors.js';
import { ownerOf, principalOf } from '../guards/principal.js';
import { negotiateFormat, openWriter } from '../protocols/negotiate.js';
import { chatBodySchema, type OpenAIChatBody } from '../protocols/openai/schema.js';
import { toBackendRequest } from '../protocols/openai/toBackendRequest.js';
import { sessionOf } from '../session.js';

export function chatRoutes(app: FastifyInstance, ctx: JarvisContext): void {
  app.post<{ Body: OpenAIChatBody }>('/v1/chat/completions', { schema: { body: chatBodySchema } }, async (request, reply) => {
    const body = request.body;
    const sessionId = sessionOf(request);
    if (ctx.shuttingDown) throw new HttpError(503, 'shutting_down', 'Jarvis is shutting down; try again once it is back');
    const model = body.model ?? (await defaultModel(ctx));
    const backendRequest = toBackendRequest(body, model);
    const streamId = newStreamId();

    reply.hijack();
    const res = reply.raw;
    const writer = openWriter(negotiateFormat(request.headers, body.stream), res, {
      streamId,
      sessionId,
      model,
      includeUsage: body.stream_options?.include_usage === true,
    });
    const owner = ownerOf(principalOf(request));
    const stream = new ChatStream({ id: streamId, sessionId, owner, user: body.user ?? undefined, model, writer, log: ctx.log, closeGraceMs: ctx.config.cancelTimeoutMs });
    const watchClient = () => {
      res.on('close', () => {
        if (!res.writableFinished) stream.cancel('client_closed');
      });
      // Gone before we looked (while the body was parsed): no 'close' will come.
      if (request.raw.socket.destroyed) stream.cancel('client_closed');
    };

    await runStream(stream, backendRequest, {
      registry: ctx.registry,
      backend: ctx.backend,
      log: ctx.log,
      firstTokenTimeoutMs: ctx.config.firstTokenTimeoutMs,
      metrics: ctx.metrics,
      onStart: watchClient,
    });
  });
}
