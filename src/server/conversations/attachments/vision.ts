import type { StoredAttachment } from '../../../store/types.js';
import type { JarvisContext } from '../../context.js';
import { httpError } from '../../errors.js';
import { resolveModel, type ResolveContext } from '../../streaming/defaultModel.js';

// Images to a model that cannot see them (docs/conversations.md "Attachments"): refused before
// anything is stored, when the model's server lists the model's capabilities (Ollama's
// /api/show) and `vision` is not among them. A server that lists none (an OpenAI-compatible
// one), or does not answer in time: the prompt is sent, and the model server answers.

const SHOW_TIMEOUT_MS = 5000;

export type VisionContext = ResolveContext & Pick<JarvisContext, 'backend' | 'log'>;

/** The model's capabilities as its server lists them; undefined when it lists none or cannot be asked. */
export async function modelCapabilities(ctx: Pick<JarvisContext, 'backend' | 'log'>, model: string): Promise<string[] | undefined> {
  try {
    return (await ctx.backend.showModel(model, AbortSignal.timeout(SHOW_TIMEOUT_MS))).capabilities;
  } catch (err) {
    // A model the server lacks is the answer's own error (model_not_found), in its usual words.
    ctx.log.debug('model_capabilities_unknown', { model, error: err instanceof Error ? err.message : String(err) });
    return undefined;
  }
}

/** Refuses (400 model_lacks_vision) images for `requested` (else the conversation's model, else the default) when its server says it has no vision. */
export async function checkVision(ctx: VisionContext, requested: string | null | undefined, attachments: StoredAttachment[] | null | undefined): Promise<void> {
  if (!attachments?.some((a) => a.type === 'image')) return;
  const { model, asked } = await resolveModel(ctx, ctx.backend, requested);
  const capabilities = await modelCapabilities(ctx, model);
  if (capabilities && !capabilities.includes('vision')) throw httpError('model_lacks_vision', { model: asked, capabilities });
}
