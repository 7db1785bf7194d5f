import type { FastifyInstance, FastifyReply } from 'fastify';
import type { EmbedResult } from '../../../backends/modelInfo.js';
import { backendHttpError } from '../../backendErrors.js';
import { clientGoneSignal } from '../../http/clientGone.js';
import type { JarvisContext } from '../../context.js';
import { defaultModel, resolveModel } from '../../streaming/defaultModel.js';
import { HttpError, installErrorHandling } from '../../errors.js';
import type { Backend } from '../../../backends/types.js';
import { serveStream, type StreamedReply } from '../../streaming/serveStream.js';
import { sessionOf } from '../../streaming/session.js';
import { ollamaErrorBody } from './errors.js';
import { encodeContext } from './generateContext.js';
import { ModelNames, ollamaName } from './modelNames.js';
import { psEntry, showBody, tagsEntry, withServers } from './models.js';
import { chatRequest, generateRequest, isPromptRequest } from './request.js';
import {
  chatBodySchema,
  embedBodySchema,
  embeddingsBodySchema,
  generateBodySchema,
  showBodySchema,
  type OllamaChatBody,
  type OllamaEmbedBody,
  type OllamaEmbeddingsBody,
  type OllamaGenerateBody,
  type OllamaShowBody,
} from './schemas.js';
import { OllamaJsonWriter, OllamaNdjsonWriter, type OllamaWriterOptions } from './writers.js';
import { admitEmbedding, recordEmbedding } from '../../usage/embeddings.js';

/**
 * The Ollama release whose API these routes follow, reported by `/api/version`
 * when the upstream is not an Ollama that can report its own: clients that gate
 * features on the version (thinking, tool streaming) then enable them.
 */
export const OLLAMA_API_VERSION = '0.12.0';

/** Runs a backend call, its failure answered as Ollama answers (status and `{"error":"…"}`). */
async function upstream<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw backendHttpError(err);
  }
}

/**
 * Ollama's answer to a request with nothing to generate: it loads the model (or,
 * with `keep_alive: 0`, unloads it) and says which. A backend that can do that
 * itself does (Backend.keepModel); for the others Jarvis checks that the model
 * exists, and the upstream loads it on first use.
 */
async function loadReply(backend: Backend, reply: FastifyReply, names: RequestModel, field: 'message' | 'response', keepAlive: string | number | null | undefined) {
  const model = names.upstream;
  let done: 'load' | 'unload';
  if (backend.keepModel) {
    const request = { model, ...(keepAlive !== undefined && keepAlive !== null ? { keepAlive } : {}) };
    done = await upstream(() => backend.keepModel!(request, clientGoneSignal(reply)));
  } else {
    await upstream(() => backend.showModel(model, AbortSignal.timeout(5000)));
    done = keepAlive === 0 || keepAlive === '0' ? 'unload' : 'load';
  }
  const said = field === 'message' ? { message: { role: 'assistant', content: '' } } : { response: '' };
  return reply.send({ model: names.shown, created_at: new Date().toISOString(), ...said, done: true, done_reason: done });
}

/** A request's model: the upstream's id (what the backend is sent) and the name the client used (what it reads back). */
interface RequestModel {
  upstream: string;
  shown: string;
}

/** `stream: false` → one JSON object; absent or true → NDJSON lines (Ollama's default). */
function writerFor(stream: boolean | null | undefined, options: Omit<OllamaWriterOptions, 'streamId' | 'timing'>): StreamedReply['writer'] {
  return (res, streamId, timing) => (stream === false ? new OllamaJsonWriter(res, { ...options, streamId, timing }) : new OllamaNdjsonWriter(res, { ...options, streamId, timing }));
}

/**
 * Ollama's API under `/api` (ollama/ollama server/routes.go), over the same stream
 * core as every other route: session from `X-Session-Id` (none: a session of its
 * own), supersede, stop, client gone = upstream closed. Errors are Ollama's
 * `{"error":"…"}`; see writers.ts for how a stream ends.
 */
/** What the Ollama routes read (`backend` and `defaultModel` live: the context itself is passed). */
export type OllamaRoutesContext = Pick<JarvisContext, 'config' | 'log' | 'backend' | 'defaultModel' | 'images' | 'starter' | 'usage' | 'limiter'>;

export function ollamaRoutes(app: FastifyInstance, ctx: OllamaRoutesContext): void {
  const names = new ModelNames();
  /** The model a request names (`plain` or `plain:latest` alike), or the default model, as both ids. */
  const modelOf = async (backend: Backend, asked: string | undefined): Promise<RequestModel> => {
    if (asked) {
      // JARVIS_MODEL_ALIASES first (a name the backend has, tagged or not, is never aliased); the reply shows the name sent.
      const { model } = await resolveModel(ctx, backend, asked);
      return { upstream: await names.upstreamId(backend, model), shown: asked };
    }
    const model = await defaultModel(ctx, backend);
    return { upstream: model, shown: ollamaName(model) };
  };
  void app.register(
    async (api) => {
      installErrorHandling(api, ctx.log, ollamaErrorBody);

      api.get('/version', async () => {
        let version: string | undefined;
        try {
          version = await ctx.backend.version(AbortSignal.timeout(2000));
        } catch {
          // The upstream is down: Jarvis still answers, and says so on the first chat.
        }
        return { version: version ?? OLLAMA_API_VERSION };
      });

      // With several model servers each entry names those that serve it (`upstreams`, docs/upstreams.md).
      api.get('/tags', async () => {
        const backend = ctx.backend;
        const models = await upstream(() => backend.listModels(AbortSignal.timeout(5000)));
        return { models: models.map((m) => withServers(tagsEntry(m), backend, m.name)) };
      });

      api.get('/ps', async () => {
        const models = await upstream(() => ctx.backend.runningModels(AbortSignal.timeout(5000)));
        return { models: models.map(psEntry) };
      });

      api.post<{ Body: OllamaShowBody }>('/show', { schema: { body: showBodySchema } }, async (request) => {
        const name = request.body.model || request.body.name;
        if (!name) throw new HttpError('invalid_request', 'model is required');
        const backend = ctx.backend;
        const id = await names.upstreamId(backend, name);
        return withServers(showBody(await upstream(() => backend.showModel(id, AbortSignal.timeout(5000)))), backend, id);
      });

      api.post<{ Body: OllamaChatBody }>('/chat', { schema: { body: chatBodySchema }, config: { startsStream: true } }, async (request, reply) => {
        const body = request.body;
        const sessionId = sessionOf(request);
        // Read once: auto mode may switch ctx.backend while this request waits.
        const backend = ctx.backend;
        const model = await modelOf(backend, body.model);
        if (!body.messages || body.messages.length === 0) return loadReply(backend, reply, model, 'message', body.keep_alive);
        const backendRequest = await ctx.images.prepare(request, reply, backend, chatRequest(body, model.upstream));
        return serveStream(ctx.starter, request, reply, {
          backend,
          sessionId,
          model: model.upstream,
          request: backendRequest,
          writer: writerFor(body.stream, { endpoint: 'chat', model: model.shown, sessionId, logprobs: body.logprobs === true }),
        });
      });

      api.post<{ Body: OllamaGenerateBody }>('/generate', { schema: { body: generateBodySchema }, config: { startsStream: true } }, async (request, reply) => {
        const body = request.body;
        const sessionId = sessionOf(request);
        // Read once: auto mode may switch ctx.backend while this request waits.
        const backend = ctx.backend;
        const model = await modelOf(backend, body.model);
        const completion = isPromptRequest(body);
        if (!body.prompt && !(body.images && body.images.length > 0) && !(completion && body.suffix)) {
          return loadReply(backend, reply, model, 'response', body.keep_alive);
        }
        const backendRequest = await ctx.images.prepare(request, reply, backend, generateRequest(body, model.upstream));
        const conversation = backendRequest.messages;
        // A text completion's conversation is no chat to continue: Ollama returns no `context` for `raw` either.
        const context = completion ? undefined : (text: string) => encodeContext([...conversation, { role: 'assistant' as const, content: text }]);
        return serveStream(ctx.starter, request, reply, {
          backend,
          sessionId,
          model: model.upstream,
          request: backendRequest,
          writer: writerFor(body.stream, {
            endpoint: 'generate',
            model: model.shown,
            sessionId,
            logprobs: body.logprobs === true,
            ...(context ? { context } : {}),
          }),
        });
      });

      const embed = async (reply: FastifyReply, model: string, input: string[], body: OllamaEmbedBody | OllamaEmbeddingsBody): Promise<{ result: EmbedResult; ms: number }> => {
        const started = performance.now();
        const backend = ctx.backend;
        const id = await names.upstreamId(backend, model);
        const grant = await admitEmbedding(ctx.limiter, ctx.config.defaultLimits, reply.request);
        let tokens = 0;
        try {
          const result = await upstream(() =>
            backend.embed(
              {
                model: id,
                input,
                ...('truncate' in body && typeof body.truncate === 'boolean' ? { truncate: body.truncate } : {}),
                ...('dimensions' in body && typeof body.dimensions === 'number' && body.dimensions > 0 ? { dimensions: body.dimensions } : {}),
                ...(body.keep_alive !== undefined && body.keep_alive !== null ? { keepAlive: body.keep_alive } : {}),
                ...(body.options ? { options: body.options } : {}),
              },
              clientGoneSignal(reply),
            ),
          );
          tokens = recordEmbedding(ctx.usage, reply.request, model, input, result);
          return { result, ms: performance.now() - started };
        } finally {
          grant.end(tokens);
        }
      };

      api.post<{ Body: OllamaEmbedBody }>('/embed', { schema: { body: embedBodySchema } }, async (request, reply) => {
        const body = request.body;
        const input = typeof body.input === 'string' ? (body.input === '' ? [] : [body.input]) : (body.input ?? []);
        const { result, ms } = await embed(reply, body.model, input, body);
        return {
          model: body.model,
          embeddings: result.embeddings,
          total_duration: Math.round(ms * 1e6),
          load_duration: 0,
          prompt_eval_count: result.promptTokens ?? 0,
        };
      });

      // The deprecated single-prompt form, still used by older clients (LangChain's OllamaEmbeddings).
      api.post<{ Body: OllamaEmbeddingsBody }>('/embeddings', { schema: { body: embeddingsBodySchema } }, async (request, reply) => {
        const body = request.body;
        if (!body.prompt) return { embedding: [] };
        const { result } = await embed(reply, body.model, [body.prompt], body);
        return { embedding: result.embeddings[0] ?? [] };
      });
    },
    { prefix: '/api' },
  );
}
