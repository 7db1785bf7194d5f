import { ConfigError, int, type Env } from '../../env.js';
import { BACKEND_KINDS, kindNamed } from '../registry.js';
import type { QueueBounds, UpstreamSpec } from './types.js';

/** One server of JARVIS_UPSTREAMS with its kind's settings, read as that kind reads its own variables. */
export interface UpstreamServer {
  spec: UpstreamSpec;
  settings: unknown;
}

/** JARVIS_UPSTREAMS and the variables of routing (docs/upstreams.md, docs/configuration.md). */
export interface UpstreamsConfig {
  servers: UpstreamServer[];
  queue: QueueBounds;
  /** JARVIS_UPSTREAM_TRIES: servers a request is tried on before its first token (the first included). */
  tries: number;
  /** JARVIS_UPSTREAM_PROBE_MS: how often each server is asked whether it answers. */
  probeMs: number;
}

const NAME = /^[A-Za-z0-9_.-]{1,32}$/;
const OPTIONS = ['max_parallel', 'weight', 'models'] as const;
const VARIABLE = 'JARVIS_UPSTREAMS';

/**
 * Reads JARVIS_UPSTREAMS: `name=kind:target;key=value,…`, e.g.
 * `gpu1=ollama:http://10.0.0.5:11434;max_parallel=4,local=embedded:models`. Each target is
 * read as its kind's own variable would be (OLLAMA_HOST for `ollama`…), the other variables
 * of the kind apply to every server of that kind. Unset: undefined (one backend, JARVIS_BACKEND).
 */
export function upstreamsConfig(env: Env): UpstreamsConfig | undefined {
  const raw = env[VARIABLE]?.trim();
  if (!raw) return undefined;
  const servers: UpstreamServer[] = [];
  for (const entry of raw.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const spec = parseEntry(entry, servers.length + 1);
    if (servers.some((s) => s.spec.name === spec.name)) throw new ConfigError(`${VARIABLE}: the name "${spec.name}" is used twice; each server needs its own`);
    const kind = kindNamed(spec.kind)!;
    const settings = kind.settings(kind.targetVariable ? { ...env, [kind.targetVariable]: spec.target } : env);
    // As the kind reads it (`10.0.0.5` → `http://10.0.0.5:11434`), for /health and the log.
    spec.target = kind.upstream(settings) ?? spec.target;
    servers.push({ spec, settings });
  }
  return {
    servers,
    queue: { maxQueue: int(env, 'JARVIS_UPSTREAM_QUEUE', 100), maxWaitMs: int(env, 'JARVIS_UPSTREAM_QUEUE_TIMEOUT_MS', 120_000, 1) },
    tries: int(env, 'JARVIS_UPSTREAM_TRIES', 3, 1),
    probeMs: int(env, 'JARVIS_UPSTREAM_PROBE_MS', 5000, 100),
  };
}

function parseEntry(entry: string, index: number): UpstreamSpec {
  const [head = '', ...options] = entry.split(';').map((part) => part.trim());
  const eq = head.indexOf('=');
  const name = eq < 0 ? '' : head.slice(0, eq).trim();
  if (!NAME.test(name)) {
    throw new ConfigError(`${VARIABLE}: entry ${index} (${JSON.stringify(entry.slice(0, 80))}) must start with a name of 1-32 characters of A-Z a-z 0-9 _ . - and "=", e.g. gpu1=ollama:http://10.0.0.5:11434`);
  }
  const rest = head.slice(eq + 1).trim();
  const colon = rest.indexOf(':');
  const kindName = (colon < 0 ? rest : rest.slice(0, colon)).trim();
  const kind = kindNamed(kindName);
  if (!kind) throw new ConfigError(`${VARIABLE}: "${name}" has the kind ${JSON.stringify(kindName)}; the kinds are ${BACKEND_KINDS.map((k) => k.name).join(', ')}`);
  const target = colon < 0 ? '' : rest.slice(colon + 1).trim();
  if (kind.targetVariable && target === '') throw new ConfigError(`${VARIABLE}: "${name}" names no target after "${kindName}:" (where the server is, as ${kind.targetVariable} would say it)`);
  const spec: UpstreamSpec = { name, kind: kind.name, target, maxParallel: Infinity, weight: 1 };
  for (const option of options.filter((o) => o !== '')) {
    const at = option.indexOf('=');
    const key = (at < 0 ? option : option.slice(0, at)).trim();
    const value = at < 0 ? '' : option.slice(at + 1).trim();
    if (key === 'max_parallel') spec.maxParallel = positive(name, key, value, true);
    else if (key === 'weight') spec.weight = positive(name, key, value, false);
    else if (key === 'models') {
      const models = value.split('|').map((m) => m.trim()).filter((m) => m !== '');
      if (models.length === 0) throw new ConfigError(`${VARIABLE}: "${name}" has an empty models list; write models=llama3.2|qwen3 or leave it out`);
      spec.models = models;
    } else throw new ConfigError(`${VARIABLE}: "${name}" has the option ${JSON.stringify(key)}; the options are ${OPTIONS.join(', ')}`);
  }
  return spec;
}

function positive(name: string, key: string, value: string, integer: boolean): number {
  const n = Number(value);
  if (value === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new ConfigError(`${VARIABLE}: "${name}" ${key} must be ${integer ? 'an integer' : 'a number'} above 0, got ${JSON.stringify(value)}`);
  }
  return n;
}
