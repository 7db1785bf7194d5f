import { BackendError } from '../backends/types.js';
import type { JarvisContext } from './context.js';
import { HttpError } from './errors.js';

/** The model of a request that names none: JARVIS_MODEL, else the backend's first. */
export async function defaultModel(ctx: JarvisContext): Promise<string> {
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
