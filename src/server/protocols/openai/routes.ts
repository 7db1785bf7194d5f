import type { FastifyInstance } from 'fastify';
import { backendHttpError } from '../../backendErrors.js';
import type { JarvisContext } from '../../context.js';
import { clientGoneSignal } from '../../http/clientGone.js';
import { resolveModel } from '../../streaming/defaultModel.js';
import { httpError, HttpError } from '../../errors.js';
import { negotiateFormat, openWriter } from '../negotiate.js';
import { chatBodySchema, type OpenAIChatBody } from './schemas.js';
import { embeddingList, embeddingsBodySchema, type OpenAIEmbeddingsBody } from './embeddings.js';
import { toBackendRequest } from './request.js';
import { serveStream } from '../../streaming/serveStream.js';
import { sessionOf } from '../../streaming/session.js';
import { admitEmbedding, recordEmbedding } from '../../usage/embeddings.js';

/** What the OpenAI routes read (`backend`, `defaultModel`, `shuttingDown` live: the context itself is passed). */
export type OpenAIRoutesContext = Pick<JarvisContext, 'config' | 'log' | 'backend' | 'defaultModel' | 'shuttingDown' | 'images' | 'starter' | 'usage' | 'limiter'>;

/** The OpenAI-compatible API: `POST /v1/chat/completions` (its three answers: negotiate.ts) and `POST /v1/embeddings`. */
export function openaiRoutes(app: FastifyInstance, ctx: OpenAIRoutesContext): void {
  app.post<{ Body: OpenAIChatBody }>('/v1/chat/completions', { schema: { body: chatBodySchema }, config: { startsStream: true } }, async (request, reply) => {
    const body = request.body;
    const sessionId = sessionOf(request);
    if (ctx.shuttingDown) throw httpError('shutting_down');
    // One backend for the request's whole life, even if auto mode switches meanwhile.
    const backend = ctx.backend;
    // `model` runs; `asked` (the name sent, before JARVIS_MODEL_ALIASES) is the one the reply shows.
    const { model, asked } = await resolveModel(ctx, backend, body.model);
    const format = negotiateFormat(request.headers, body.stream);
    // Jarvis NDJSON carries one reply: the choices of `n` > 1 are OpenAI's shapes only (docs/api.md "Logprobs and n").
    if (format === 'ndjson' && body.n != null && body.n > 1) {
      throw new HttpError('invalid_request', `n=${body.n} needs an OpenAI answer ("stream": true or false); Jarvis NDJSON carries one reply`, { param: 'n' });
    }
    const backendRequest = await ctx.images.prepare(request, reply, backend, toBackendRequest(body, model));
    return serveStream(ctx.starter, request, reply, {
      sessionId,
      model,
      backend,
      request: backendRequest,
      user: body.user ?? undefined,
      writer: (res, streamId, timing) =>
        openWriter(format, res, {
          streamId,
          sessionId,
          model: asked,
          includeUsage: body.stream_options?.include_usage === true,
          logprobs: body.logprobs === true,
          maxReplyBytes: ctx.config.limits.maxReplyBytes,
          timing,
        }),
    });
  });
  // Passed to the upstream (Ollama's /api/embed, or the OpenAI-compatible /v1/embeddings).
  app.post<{ Body: OpenAIEmbeddingsBody }>('/v1/embeddings', { schema: { body: embeddingsBodySchema } }, async (request, reply) => {
    const body = request.body;
    const input = typeof body.input === 'string' ? [body.input] : body.input;
    const grant = await admitEmbedding(ctx.limiter, ctx.config.defaultLimits, request);
    let tokens = 0;
    try {
      const result = await ctx.backend.embed(
        { model: body.model, input, ...(body.dimensions ? { dimensions: body.dimensions } : {}) },
        clientGoneSignal(reply),
      );
      tokens = recordEmbedding(ctx.usage, request, body.model, input, result);
      return embeddingList(result, body.model, body.encoding_format ?? 'float');
    } catch (err) {
      throw backendHttpError(err);
    } finally {
      grant.end(tokens);
    }
  });
}
