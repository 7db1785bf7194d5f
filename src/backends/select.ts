import type { Config } from '../config.js';
import type { SystemLog } from '../log/systemLog.js';
import type { BackendKind } from './kind.js';
import { autoKinds, kindNamed } from './registry.js';
import { BackendError, type Backend } from './types.js';

export interface SelectedBackend {
  backend: Backend;
  /** The model used when a request names none (JARVIS_MODEL, else the backend's first). */
  defaultModel: string | undefined;
  /**
   * What the operator must fix for a kind to work, for /health's warnings: the chosen
   * in-process kind not ready, or an engine that is not installed (docs/embedded.md).
   */
  notReady?: string[];
}

/** What a probe found: the model names, or why there are none. */
export interface ProbeResult {
  models?: string[];
  failure: string;
  /** The failure's technical detail (an errno line), for the log. */
  detail?: string | undefined;
  /** The failure's error code, when the probe threw a BackendError. */
  code?: string | undefined;
}

/**
 * Picks the backend at start-up (docs/backends.md). `auto` walks the registry's
 * auto kinds in order and takes the first that answers within `probeMs` (the
 * demo, last, always does; autoWatch.ts keeps asking the ones before it). An
 * explicitly chosen backend is used even while it does not answer yet. The
 * choice is logged with its reason.
 */
export async function selectBackend(config: Config, log: SystemLog, probeMs = 1500): Promise<SelectedBackend> {
  if (config.backend !== 'auto') {
    const kind = kindNamed(config.backend)!;
    const backend = buildKind(kind, config, false, log);
    const found = await probe(kind, backend, probeMs);
    const notReady = found.models === undefined ? found.failure : undefined;
    const reason = kind.inProcess ? `JARVIS_BACKEND=${kind.name}${notReady ? ` (not ready: ${notReady})` : ''}` : notReady ? `${kind.name} not answering yet: ${why(found)}` : `${kind.name} answered`;
    return { ...selected(kind, backend, found, config, log, { reason }), ...(kind.inProcess && notReady ? { notReady: [notReady] } : {}) };
  }
  const kinds = autoKinds();
  const passed: string[] = [];
  const notReady: string[] = [];
  for (const [i, kind] of kinds.entries()) {
    const backend = buildKind(kind, config, i > 0, log);
    const found = await probe(kind, backend, probeMs);
    if (found.models !== undefined || i === kinds.length - 1) {
      const reason = passed.length > 0 ? passed.join('; ') : `${kind.name} answered`;
      return { ...selected(kind, backend, found, config, log, { reason }), ...(notReady.length > 0 ? { notReady } : {}) };
    }
    // Models there, engine missing: skipped, and said (the log, /health) with how to install it.
    if (found.code === 'engine_unavailable') notReady.push(found.failure);
    passed.push(`${kind.name} not answering${where(kind, config)} (${why(found)})`);
  }
  throw new Error('the registry has no auto kind');
}

/** Builds the kind from the config; `autoSwitches`: a kind before it in auto's order may take over later. */
export function buildKind(kind: BackendKind, config: Config, autoSwitches: boolean, log?: SystemLog): Backend {
  const settings = (config.backends as Record<string, unknown>)[kind.name];
  return kind.build(settings, { autoSwitches: autoSwitches && config.backendProbeMs > 0, ...(log ? { log } : {}) });
}

export function upstreamOf(kind: BackendKind, config: Config): string | undefined {
  return kind.upstream((config.backends as Record<string, unknown>)[kind.name]);
}

function where(kind: BackendKind, config: Config): string {
  const upstream = upstreamOf(kind, config);
  return upstream ? ` at ${upstream}` : '';
}

/** A failed probe for the log: its technical detail when it has one. */
function why(found: ProbeResult): string {
  return found.detail ?? found.failure;
}

export async function probe(kind: BackendKind, backend: Backend, probeMs: number): Promise<ProbeResult> {
  try {
    return { models: await kind.probe(backend, AbortSignal.timeout(probeMs)), failure: '' };
  } catch (err) {
    return {
      failure: err instanceof Error ? err.message : String(err),
      detail: err instanceof BackendError ? err.detail : undefined,
      code: err instanceof BackendError ? err.code : undefined,
    };
  }
}

/** Logs the choice (`backend_selected`, and `no_models` when there is nothing to talk to). */
export function selected(
  kind: BackendKind,
  backend: Backend,
  found: ProbeResult,
  config: Config,
  log: SystemLog,
  why: { reason: string; previous?: string },
): SelectedBackend {
  const models = found.models;
  const defaultModel = config.model ?? models?.[0];
  const upstream = upstreamOf(kind, config);
  log.info('backend_selected', {
    backend: backend.name,
    choice: config.backend,
    upstream,
    model: defaultModel,
    models: kind.inProcess ? undefined : models?.length,
    previous: why.previous,
    reason: why.reason,
  });
  if (models !== undefined && models.length === 0 && !config.model) log.warn('no_models', { upstream, hint: kind.noModelsHint });
  return { backend, defaultModel };
}
