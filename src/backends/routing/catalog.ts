import type { UpstreamSpec } from './types.js';

/** `llama3.2` and `llama3.2:latest` name one model (Ollama answers to both). */
export function sameModel(a: string, b: string): boolean {
  return a === b || a === `${b}:latest` || b === `${a}:latest`;
}

/** The one name of a model whatever its spelling (`llama3.2:latest` → `llama3.2`): its queue's name, its key in the union. */
export function bare(name: string): string {
  return name.endsWith(':latest') ? name.slice(0, -7) : name;
}

/**
 * Which server serves which model (docs/upstreams.md "Models"): each server's list as its last
 * successful probe read it, narrowed by its `models` allow-list. A model several servers serve
 * is one entry of the union, spelled as the first server in JARVIS_UPSTREAMS's order spells it.
 */
export class UpstreamCatalog {
  /** Per server: its models (allow-list applied), undefined until it has answered once. */
  private readonly lists = new Map<string, string[]>();

  constructor(private readonly specs: readonly UpstreamSpec[]) {}

  /** A probe read the server's list. Returns whether it changed. */
  set(name: string, models: string[]): boolean {
    const spec = this.specs.find((s) => s.name === name);
    const allowed = spec?.models;
    const next = allowed ? models.filter((m) => allowed.some((a) => sameModel(a, m))) : models;
    const before = this.lists.get(name);
    this.lists.set(name, next);
    return before === undefined || before.length !== next.length || before.some((m, i) => m !== next[i]);
  }

  /** Whether the server has answered a probe once (its list is known). */
  known(name: string): boolean {
    return this.lists.has(name);
  }

  /** The server's models, as it spells them. */
  modelsOf(name: string): string[] {
    return this.lists.get(name) ?? [];
  }

  /** How the server spells `model`, if it serves it. */
  spelling(name: string, model: string): string | undefined {
    return this.lists.get(name)?.find((m) => sameModel(m, model));
  }

  /** The servers that serve `model`, in JARVIS_UPSTREAMS's order (whatever their health). */
  serving(model: string): UpstreamSpec[] {
    return this.specs.filter((spec) => this.spelling(spec.name, model) !== undefined);
  }

  /** Every model once, in the servers' order, with the servers that serve it. */
  union(): Array<{ id: string; upstreams: string[] }> {
    const byName = new Map<string, { id: string; upstreams: string[] }>();
    for (const spec of this.specs) {
      for (const model of this.lists.get(spec.name) ?? []) {
        const key = bare(model);
        const entry = byName.get(key);
        if (entry) {
          if (!entry.upstreams.includes(spec.name)) entry.upstreams.push(spec.name);
        } else byName.set(key, { id: model, upstreams: [spec.name] });
      }
    }
    return [...byName.values()];
  }
}
