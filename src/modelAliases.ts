import { ConfigError, list, type Env } from './env.js';

/**
 * JARVIS_MODEL_ALIASES (docs/configuration.md, docs/anthropic.md): model names a client
 * sends that the backend lacks, mapped to one it has. `name=target` entries, comma
 * separated; `name*=target` matches every name that starts with `name` (Claude Code's
 * dated names: `claude-sonnet-4-5*`); `*=target` is the default for any other unknown
 * name. Exact names win over prefixes, the longest prefix over shorter ones.
 */
export interface ModelAliases {
  exact: ReadonlyMap<string, string>;
  /** Longest prefix first. */
  prefixes: ReadonlyArray<readonly [prefix: string, target: string]>;
  fallback: string | undefined;
}

export const NO_ALIASES: ModelAliases = { exact: new Map(), prefixes: [], fallback: undefined };

const VARIABLE = 'JARVIS_MODEL_ALIASES';

export function parseModelAliases(env: Env): ModelAliases {
  const exact = new Map<string, string>();
  const prefixes: Array<[string, string]> = [];
  let fallback: string | undefined;
  const seen = new Set<string>();
  for (const entry of list(env, VARIABLE)) {
    const eq = entry.indexOf('=');
    const name = eq > 0 ? entry.slice(0, eq).trim() : '';
    const target = eq > 0 ? entry.slice(eq + 1).trim() : '';
    if (name === '' || target === '') {
      throw new ConfigError(`${VARIABLE}: ${JSON.stringify(entry.slice(0, 100))} is not name=model (write e.g. claude-sonnet-4-5=qwen3:8b,*=qwen3:8b)`);
    }
    if (target.includes('*')) throw new ConfigError(`${VARIABLE}: the model ${JSON.stringify(target.slice(0, 100))} of ${JSON.stringify(name)} has a "*"; only the name side may end with one`);
    if (name.indexOf('*') !== -1 && name.indexOf('*') !== name.length - 1) {
      throw new ConfigError(`${VARIABLE}: ${JSON.stringify(name.slice(0, 100))} has a "*" that is not its last character; write name*=model for a prefix, *=model for the default`);
    }
    if (seen.has(name)) throw new ConfigError(`${VARIABLE}: ${JSON.stringify(name.slice(0, 100))} is named twice`);
    seen.add(name);
    if (name === '*') fallback = target;
    else if (name.endsWith('*')) prefixes.push([name.slice(0, -1), target]);
    else exact.set(name, target);
  }
  prefixes.sort((a, b) => b[0].length - a[0].length);
  return { exact, prefixes, fallback };
}

export function hasAliases(aliases: ModelAliases): boolean {
  return aliases.exact.size > 0 || aliases.prefixes.length > 0 || aliases.fallback !== undefined;
}

/** The alias `name` maps to, if any entry matches it. */
export function aliasOf(aliases: ModelAliases, name: string): string | undefined {
  const exact = aliases.exact.get(name);
  if (exact !== undefined) return exact;
  for (const [prefix, target] of aliases.prefixes) if (name.startsWith(prefix)) return target;
  return aliases.fallback;
}
