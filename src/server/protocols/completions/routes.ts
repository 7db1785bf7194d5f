import type { FastifyInstance } from 'fastify';
import type { JarvisContext } from '../../context.js';
import { httpError } from '../../errors.js';
import { resolveModel } from '../../streaming/defaultModel.js';
import { serveStream } from '../../streaming/serveStream.js';
import { sessionOf } from '../../streaming/session.js';
import { toPromptRequest } from './request.js';
import { completionsBodySchema, type CompletionsBody } from './schemas.js';
import { TextCompletionJsonWriter, TextCompletionSseWriter } from './writers.js';

export type CompletionsRoutesContext = Pick<JarvisContext, 'config' | 'log' | 'backend' | 'defaultModel' | 'shuttingDown' | 'starter'>;

/**
 * `POST /v1/completions`, OpenAI's text completions with `suffix` for
 * fill-in-the-middle (docs/completions.md): one stream under the session rules,
 * like every other route; each backend completes the raw prompt its own way
 * or answers `unsupported_by_backend`.
 */
export function completionsRoutes(app: FastifyInstance, ctx: CompletionsRoutesContext): void {
  app.post<{ Body: CompletionsBody }>('/v1/completions', { schema: { body: completionsBodySchema }, config: { startsStream: true } }, async (request, reply) => {
    const body = request.body;
    const sessionId = sessionOf(request);
    if (ctx.shuttingDown) throw httpError('shutting_down');
    // One backend for the request's whole life, even if auto mode switches meanwhile.
    const backend = ctx.backend;
    // `model` runs; `asked` (the name sent, before JARVIS_MODEL_ALIASES) is the one the reply shows.
    const { model, asked } = await resolveModel(ctx, backend, body.model);
    const backendRequest = toPromptRequest(body, model);
    const echo = body.echo === true ? backendRequest.prompt!.text : undefined;
    return serveStream(ctx.starter, request, reply, {
      sessionId,
      model,
      backend,
      request: backendRequest,
      user: body.user ?? undefined,
      writer: (res, streamId, timing) => {
        const options = {
          streamId,
          sessionId,
          model: asked,
          includeUsage: body.stream_options?.include_usage === true,
          maxReplyBytes: ctx.config.limits.maxReplyBytes,
          timing,
          ...(echo ? { echo } : {}),
        };
        return body.stream === true ? new TextCompletionSseWriter(res, options) : new TextCompletionJsonWriter(res, options);
      },
    });
  });
}
