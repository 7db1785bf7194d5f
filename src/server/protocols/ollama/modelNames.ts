import type { Backend } from '../../../backends/types.js';

// Ollama names a model `name:tag`, and its clients treat a name without a tag as
// `name:latest` (Open WebUI appends it before it sends a chat). An OpenAI-compatible
// upstream (vLLM, llama.cpp) and the embedded engine name models without tags
// (`Qwen/Qwen3-8B`, `plain`), so Jarvis's Ollama API lists every model with a tag
// and accepts either form, mapping it back to the upstream's own id
// (docs/api.md#ollama-api). The OpenAI API keeps the upstream's ids.

const LATEST = ':latest';

/** Whether an Ollama name carries a tag: a `:` after its last `/` (`host:port/ns/model` has none). */
export function hasTag(name: string): boolean {
  return name.indexOf(':', name.lastIndexOf('/') + 1) !== -1;
}

/** The name an Ollama client sees: the upstream's id, with `:latest` when it has no tag. */
export function ollamaName(upstreamId: string): string {
  return hasTag(upstreamId) ? upstreamId : `${upstreamId}${LATEST}`;
}

/** How long a backend's model ids are trusted before they are asked again. */
const LIST_TTL_MS = 10_000;
/** At most so many names are remembered per backend (a list is bounded by what the upstream serves). */
const MAX_NAMES = 10_000;

interface Listed {
  ids: Set<string>;
  at: number;
}

/**
 * Maps a model name sent to the Ollama API to the upstream's id. Only a name ending
 * in `:latest` or without a tag can differ (`plain:latest` → `plain` for vLLM,
 * `llama3.2` → `llama3.2:latest` for an Ollama that lists only that); which form
 * the upstream has is read from its model list, kept for a few seconds per backend,
 * so a chat costs no extra upstream request in the common case.
 */
export class ModelNames {
  private readonly lists = new WeakMap<Backend, Listed>();

  async upstreamId(backend: Backend, name: string): Promise<string> {
    const other = name.endsWith(LATEST) ? name.slice(0, -LATEST.length) : hasTag(name) ? undefined : `${name}${LATEST}`;
    if (other === undefined || other === '') return name;
    let listed = this.lists.get(backend);
    if (!listed || Date.now() - listed.at > LIST_TTL_MS || !(listed.ids.has(name) || listed.ids.has(other))) {
      listed = await this.refresh(backend, listed);
    }
    // The form the upstream lists wins; a name it lists in neither form goes as sent,
    // and the upstream answers its own "not found".
    return !listed.ids.has(name) && listed.ids.has(other) ? other : name;
  }

  /** One listing at a time per backend: requests that arrive while it runs share it. */
  private readonly pending = new WeakMap<Backend, Promise<Listed>>();

  private refresh(backend: Backend, previous: Listed | undefined): Promise<Listed> {
    // A name just asked for and missing: ask again at most once a second.
    if (previous && Date.now() - previous.at < 1000) return Promise.resolve(previous);
    const running = this.pending.get(backend);
    if (running) return running;
    const listing = (async () => {
      try {
        const models = await backend.listModels(AbortSignal.timeout(5000));
        const listed = { ids: new Set(models.slice(0, MAX_NAMES).map((m) => m.name)), at: Date.now() };
        this.lists.set(backend, listed);
        return listed;
      } catch {
        // The upstream is down: the name goes as sent, and the request meets the upstream's own error.
        return previous ?? { ids: new Set<string>(), at: 0 };
      } finally {
        this.pending.delete(backend);
      }
    })();
    this.pending.set(backend, listing);
    return listing;
  }
}
