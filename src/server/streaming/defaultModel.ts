import { BackendError, type Backend } from '../../backends/types.js';
import type { JarvisContext } from '../context.js';
import { HttpError, httpError } from '../errors.js';
import { technicalDetail } from '../../shared/errors.js';
import type { Config } from '../../config.js';
import type { SystemLog } from '../../log/systemLog.js';
import { aliasOf, hasAliases } from '../../modelAliases.js';

/**
 * The model of a request that names none: JARVIS_MODEL, else the backend's first.
 * `backend` is the one the request runs on (read once from ctx.backend: auto mode may
 * switch it meanwhile, and then the default of the old one is asked for, not reused).
 */
/** What it reads and keeps: the live backend and its default model. */
export type ModelContext = Pick<JarvisContext, 'backend' | 'defaultModel'>;

export async function defaultModel(ctx: ModelContext, backend: Backend = ctx.backend): Promise<string> {
  if (ctx.defaultModel && ctx.backend === backend) return ctx.defaultModel;
  // The backend had no model at start-up (Ollama down, or nothing pulled): ask again.
  let models: string[];
  try {
    models = await backend.models();
  } catch (err) {
    const code = err instanceof BackendError ? err.code : 'upstream_unavailable';
    throw new HttpError(code, `no model named and the ${backend.name} backend cannot list its models: ${err instanceof Error ? err.message : String(err)}`, { status: 502, detail: technicalDetail(err) });
  }
  const model = models[0];
  if (ctx.backend === backend) ctx.defaultModel = model;
  if (!model) {
    throw httpError('no_model', { backend: backend.name });
  }
  return model;
}

/** The model a request runs on, and the name it asked for (the one its reply shows: docs/configuration.md, JARVIS_MODEL_ALIASES). */
export interface ResolvedModel {
  model: string;
  asked: string;
}

/** What resolveModel reads besides the backend: the aliases, and the log where each use of one is written. */
export type ResolveContext = ModelContext & { config: Pick<Config, 'modelAliases'>; log: Pick<SystemLog, 'info'> };

/**
 * The one place every route turns a request's `model` into the model it runs on:
 * none named → defaultModel; a name the backend lacks that JARVIS_MODEL_ALIASES maps →
 * its alias (logged as `model_alias`, both names); else the name as sent. Whether the
 * backend has the name is asked only when an alias matches it, from a list kept for
 * MODEL_LIST_TTL_MS; a backend that cannot list its models is taken to lack it.
 */
export async function resolveModel(ctx: ResolveContext, backend: Backend, requested: string | null | undefined): Promise<ResolvedModel> {
  if (requested == null) {
    const model = await defaultModel(ctx, backend);
    return { model, asked: model };
  }
  const aliases = ctx.config.modelAliases;
  const target = hasAliases(aliases) ? aliasOf(aliases, requested) : undefined;
  if (target === undefined || target === requested || (await backendHas(backend, requested))) return { model: requested, asked: requested };
  ctx.log.info('model_alias', { requested: requested.slice(0, 200), model: target, backend: backend.name });
  return { model: target, asked: requested };
}

const MODEL_LIST_TTL_MS = 5000;
const modelLists = new WeakMap<Backend, { at: number; ids: Promise<string[]> }>();

async function backendHas(backend: Backend, name: string): Promise<boolean> {
  let cached = modelLists.get(backend);
  if (!cached || performance.now() - cached.at > MODEL_LIST_TTL_MS) {
    cached = { at: performance.now(), ids: backend.models(AbortSignal.timeout(5000)).catch(() => []) };
    modelLists.set(backend, cached);
  }
  const ids = await cached.ids;
  // Ollama answers `llama3.2` for `llama3.2:latest` and the other way round.
  return ids.some((id) => id === name || id === `${name}:latest` || name === `${id}:latest`);
}
