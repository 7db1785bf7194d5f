import type { FastifyInstance } from 'fastify';
import { backendHttpError } from '../backendErrors.js';
import { clientGoneSignal } from '../clientGone.js';
import type { JarvisContext } from '../context.js';
import { embeddingList, embeddingsBodySchema, type OpenAIEmbeddingsBody } from '../protocols/openai/embeddings.js';

/** `POST /v1/embeddings`: passed to the upstream (Ollama's /api/embed, or the OpenAI-compatible /v1/embeddings). */
export function embeddingRoutes(app: FastifyInstance, ctx: JarvisContext): void {
  app.post<{ Body: OpenAIEmbeddingsBody }>('/v1/embeddings', { schema: { body: embeddingsBodySchema } }, async (request, reply) => {
    const body = request.body;
    const input = typeof body.input === 'string' ? [body.input] : body.input;
    try {
      const result = await ctx.backend.embed(
        { model: body.model, input, ...(body.dimensions ? { dimensions: body.dimensions } : {}) },
        clientGoneSignal(reply),
      );
      return embeddingList(result, body.model, body.encoding_format ?? 'float');
    } catch (err) {
      throw backendHttpError(err);
    }
  });
}
