import { BackendError, type Backend } from '../../backends/types.js';
import type { JarvisContext } from '../context.js';
import { HttpError, httpError } from '../errors.js';
import { technicalDetail } from '../../shared/errors.js';

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
