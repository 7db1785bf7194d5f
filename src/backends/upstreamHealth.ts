import type { SystemLog } from '../log/systemLog.js';
import { kindNamed } from './registry.js';
import { BackendError, type Backend } from './types.js';

export type UpstreamState = 'ok' | 'unreachable' | 'unknown';

/** A model list older than this is asked for again by the next reader. */
export const UPSTREAM_PROBE_INTERVAL_MS = 2000;
const PROBE_TIMEOUT_MS = 1500;
const NO_MODELS: readonly string[] = Object.freeze([]);

/**
 * Whether the model server answers, for `/health` (the UI's "model server is down"
 * banner). `/health` must answer at once whatever the upstream does, so `read()`
 * returns what the last probe found and, when that is stale, starts the next one
 * in the background: at most one probe in flight and one per interval, and none
 * at all while nobody reads (no traffic to the model server from an idle Jarvis).
 * An in-process kind (the demo, the embedded engine) has nothing to reach: it is
 * `ok` without asking, and only its model list is read. A change of state is logged once.
 */
export class UpstreamHealth {
  private backend: Backend | undefined;
  private state: UpstreamState = 'unknown';
  private checkedAt = -Infinity;
  private probing = false;
  /** The model list of the last probe that answered (/health's `upstreams[].models`). */
  private lastModels: readonly string[] = NO_MODELS;
  /** While unreachable: why, and since when (epoch ms). */
  private failure: { error: string; since: number } | undefined;

  constructor(
    private readonly log: SystemLog,
    private readonly intervalMs = UPSTREAM_PROBE_INTERVAL_MS,
  ) {}

  read(backend: Backend): UpstreamState {
    if (backend !== this.backend) {
      // Switched (auto mode): what was known is about another server.
      this.backend = backend;
      this.state = 'unknown';
      this.checkedAt = -Infinity;
      this.lastModels = NO_MODELS;
      this.failure = undefined;
    }
    if (!this.probing && performance.now() - this.checkedAt >= this.intervalMs) void this.probe(backend);
    return kindNamed(backend.name)?.inProcess ? 'ok' : this.state;
  }

  /** The models the last answering probe listed (empty before one answered). */
  get models(): readonly string[] {
    return this.lastModels;
  }

  /** Why the last probe failed and since when it fails (epoch ms); undefined while it answers. */
  get lastFailure(): { error: string; since: number } | undefined {
    return this.failure;
  }

  private async probe(backend: Backend): Promise<void> {
    this.probing = true;
    let next: UpstreamState;
    let models: string[] | undefined;
    let error: string | undefined;
    let detail: string | undefined;
    try {
      models = await backend.models(AbortSignal.timeout(Math.min(PROBE_TIMEOUT_MS, this.intervalMs)));
      next = 'ok';
    } catch (err) {
      next = 'unreachable';
      error = err instanceof Error ? err.message : String(err);
      detail = err instanceof BackendError ? err.detail : undefined;
    } finally {
      this.probing = false;
      this.checkedAt = performance.now();
    }
    if (backend !== this.backend) return;
    if (models) this.lastModels = models;
    // An in-process kind's failure to list (no model file yet) says nothing about reaching it.
    if (kindNamed(backend.name)?.inProcess) return;
    if (next !== this.state && !(this.state === 'unknown' && next === 'ok')) {
      if (next === 'ok') this.log.info('upstream_health', { backend: backend.name, state: next });
      else this.log.warn('upstream_health', { backend: backend.name, state: next, error, detail });
    }
    this.failure = next === 'ok' ? undefined : { error: error ?? 'no answer', since: this.failure?.since ?? Date.now() };
    this.state = next;
  }
}
