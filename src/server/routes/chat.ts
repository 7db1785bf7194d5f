import type { FastifyInstance } from 'fastify';
import { BackendError } from '../../backends/types.js';
import type { ChatMessage } from '../../shared/events.js';
import { ChatStream, newStreamId } from '../../streams/chatStream.js';
import { runStream } from '../../streams/runStream.js';
import type { JarvisContext } from '../context.js';
import { HttpError } from '../errors.js';
import { sessionOf } from '../session.js';
import { openWriter, wireFormat } from '../writers.js';

export interface ChatBody {
  messages: ChatMessage[];
  model?: string;
  stream?: boolean;
  temperature?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  stream_options?: { include_usage?: boolean };
  user?: string;
}

export const chatBodySchema = {
  type: 'object',
  required: ['messages'],
  properties: {
    messages: {
      type: 'array',
      minItems: 1,
      maxItems: 10_000,
      items: {
        type: 'object',
        required: ['role', 'content'],
        properties: {
          role: { type: 'string', enum: ['system', 'user', 'assistant'] },
          content: { type: 'string' },
        },
      },
    },
    model: { type: 'string', minLength: 1, maxLength: 256 },
    stream: { type: 'boolean' },
    temperature: { type: 'number', minimum: 0, maximum: 2 },
    max_tokens: { type: 'integer', minimum: 1 },
    max_completion_tokens: { type: 'integer', minimum: 1 },
    stream_options: { type: ['object', 'null'], properties: { include_usage: { type: 'boolean' } } },
    user: { type: 'string', maxLength: 256 },
  },
} as const;

export function chatRoutes(app: FastifyInstance, ctx: JarvisContext): void {
  app.post<{ Body: ChatBody }>('/v1/chat/completions', { schema: { body: chatBodySchema } }, async (request, reply) => {
    const body = request.body;
    const sessionId = sessionOf(request, body.user);
    if (ctx.shuttingDown) throw new HttpError(503, 'shutting_down', 'Jarvis is shutting down; try again once it is back');
    const model = body.model ?? (await defaultModel(ctx));
    const streamId = newStreamId();

    reply.hijack();
    const res = reply.raw;
    const writer = openWriter(wireFormat(body.stream), res, {
      streamId,
      sessionId,
      model,
      includeUsage: body.stream_options?.include_usage === true,
    });
    const stream = new ChatStream({ id: streamId, sessionId, model, writer, log: ctx.log, closeGraceMs: ctx.config.cancelTimeoutMs });
    const watchClient = () => {
      res.on('close', () => {
        if (!res.writableFinished) stream.cancel('client_closed');
      });
      // Gone before we looked (while the body was parsed): no 'close' will come.
      if (request.raw.socket.destroyed) stream.cancel('client_closed');
    };

    const request_ = { model, messages: body.messages, temperature: body.temperature, maxTokens: body.max_completion_tokens ?? body.max_tokens };
    await runStream(stream, request_, {
      registry: ctx.registry,
      backend: ctx.backend,
      log: ctx.log,
      firstTokenTimeoutMs: ctx.config.firstTokenTimeoutMs,
      metrics: ctx.metrics,
      onStart: watchClient,
    });
  });
}

async function defaultModel(ctx: JarvisContext): Promise<string> {
  if (ctx.defaultModel) return ctx.defaultModel;
  // The backend had no model at start-up (Ollama down, or nothing pulled): ask again.
  let models: string[];
  try {
    models = await ctx.backend.models();
  } catch (err) {
    const code = err instanceof BackendError ? err.code : 'upstream_unavailable';
    throw new HttpError(502, code, `no model named and the ${ctx.backend.name} backend cannot list its models: ${err instanceof Error ? err.message : String(err)}`);
  }
  ctx.defaultModel = models[0];
  if (!ctx.defaultModel) {
    throw new HttpError(400, 'no_model', `the ${ctx.backend.name} backend has no model; name one in "model", set JARVIS_MODEL, or pull one (ollama pull llama3.2)`);
  }
  return ctx.defaultModel;
}
