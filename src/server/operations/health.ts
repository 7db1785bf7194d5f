import type { FastifyInstance } from 'fastify';
import type { HealthResponse, ModelList, UpstreamStatus } from '../../shared/events.js';
import { principalOf } from '../http/guards/principal.js';
import { autoKinds, backendLabel } from '../../backends/registry.js';
import { BackendError, type Backend } from '../../backends/types.js';
import type { JarvisContext } from '../context.js';
import { HttpError, httpError } from '../errors.js';
import { technicalDetail } from '../../shared/errors.js';
import type { UpstreamView } from './upstreamView.js';
import { modelCapabilities } from '../conversations/attachments/vision.js';
import { anthropicModel, anthropicModelPage, wantsAnthropicShape, type AnthropicModelInfo, type AnthropicModelPage, type ModelPageQuery } from '../protocols/anthropic/models.js';

type ModelObject = ModelList['data'][number];

/** What `/health` and `/v1/models` read (`backend` and `defaultModel` live: the context itself is passed). */
export type InfoContext = Pick<JarvisContext, 'config' | 'log' | 'registry' | 'backend' | 'defaultModel' | 'startedAt' | 'warnings' | 'auth'>;

export function infoRoutes(app: FastifyInstance, ctx: InfoContext, upstreams: UpstreamView): void {
  // With JARVIS_UPSTREAMS the list is the servers: auto mode is not used.
  const autoOrder = ctx.config.backend === 'auto' && !ctx.config.upstreams ? autoKinds().map((kind) => kind.name) : undefined;
  // Synchronous and allocation-light: it must answer within 100 ms during any storm.
  // Public (no key needed: monitors and the UI's sign-in screen read it), so it names
  // no session, stream or key: counts only.
  // With keys, a caller without one sees each model server's name, state and counts, not
  // where it is, what it serves or its last error (docs/security.md).
  app.get('/health', { config: { access: 'public' } }, async (request): Promise<HealthResponse> => {
    const log = ctx.log.health();
    const servers = upstreams.list();
    return {
      status: 'ok',
      backend: ctx.backend.name,
      backend_label: ctx.backend.upstreams ? 'the model servers' : backendLabel(ctx.backend.name),
      model: ctx.defaultModel ?? null,
      upstream: upstreams.summary(servers),
      active_streams: ctx.registry.size,
      max_tokens_default: ctx.config.limits.maxTokensDefault,
      uptime_s: Math.round((Date.now() - ctx.startedAt) / 1000),
      log: log.state,
      log_lines_dropped: log.dropped,
      ...(ctx.warnings.length > 0 ? { warnings: ctx.warnings } : {}),
      ...(autoOrder ? { auto_order: autoOrder } : {}),
      ...(ctx.config.redisUrl ? { cluster: { instance: ctx.config.instanceId, redis: ctx.registry.unavailable() ? ('unavailable' as const) : ('ready' as const) } } : {}),
      upstreams: ctx.auth.required() && principalOf(request) === null ? servers.map(countsOnly) : servers,
    };
  });

  // OpenAI's list, or Anthropic's for a request with an `anthropic-version` header (docs/anthropic.md).
  app.get<{ Querystring: ModelPageQuery }>('/v1/models', async (request): Promise<ModelList | AnthropicModelPage> => {
    const backend = ctx.backend;
    const ids = await modelIds(backend);
    if (wantsAnthropicShape(request.headers)) return anthropicModelPage(ids, ctx.startedAt, request.query);
    return { object: 'list', data: ids.map((id) => modelObject(ctx, backend, id)) };
  });

  // A wildcard, not `:id`: vLLM's model ids have slashes (`meta-llama/Llama-3.1-8B-Instruct`).
  app.get<{ Params: { '*': string } }>('/v1/models/*', async (request): Promise<ModelObject | AnthropicModelInfo> => {
    const id = request.params['*'];
    const backend = ctx.backend;
    const ids = await modelIds(backend);
    if (!ids.includes(id)) throw httpError('model_not_found', { model: id });
    if (wantsAnthropicShape(request.headers)) return anthropicModel(id, ctx.startedAt);
    // One model: what its server lists it can do (the web UI warns of an image for a model without vision).
    const capabilities = await modelCapabilities({ backend, log: ctx.log }, id);
    return { ...modelObject(ctx, backend, id), ...(capabilities ? { capabilities } : {}) };
  });
}

function countsOnly(u: UpstreamStatus): UpstreamStatus {
  const { last_error: _error, ...rest } = u;
  return { ...rest, target: null, models: [] };
}

/**
 * One model in OpenAI's shape; with several model servers, `upstreams` names those that
 * serve it (docs/upstreams.md). OpenAI's clients ignore a field they do not know.
 */
function modelObject(ctx: InfoContext, backend: Backend, id: string): ModelObject {
  const model: ModelObject = { id, object: 'model', created: Math.floor(ctx.startedAt / 1000), owned_by: backend.name };
  if (backend.servedBy) model.upstreams = backend.servedBy(id);
  return model;
}

/** The backend's model ids; any failure to list them is a 502 in the backend's words. */
async function modelIds(backend: Backend): Promise<string[]> {
  try {
    return await backend.models(AbortSignal.timeout(5000));
  } catch (err) {
    const code = err instanceof BackendError ? err.code : 'upstream_error';
    throw new HttpError(code, err instanceof Error ? err.message : String(err), { status: 502, detail: technicalDetail(err) });
  }
}
