import type { Backend } from '../../backends/types.js';
import { kindNamed } from '../../backends/registry.js';
import { upstreamOf } from '../../backends/select.js';
import { UpstreamHealth, type UpstreamState } from '../../backends/upstreamHealth.js';
import type { HealthResponse, UpstreamStatus } from '../../shared/events.js';
import type { JarvisContext } from '../context.js';

export type UpstreamViewContext = Pick<JarvisContext, 'config' | 'log' | 'registry' | 'backend'>;

/** What never changes for one single backend: computed once per backend, not per read. */
interface SingleEntry {
  backend: Backend;
  name: string;
  kind: string;
  target: string | null;
  /** The error without the address's credentials (the backend's messages name the address as configured). */
  scrub(error: string): string;
}

const STATE: Record<UpstreamState, UpstreamStatus['state']> = { ok: 'up', unreachable: 'down', unknown: 'unknown' };

/**
 * The model servers as /health and /metrics show them (docs/operations.md "Live state
 * and metrics", docs/upstreams.md): with JARVIS_UPSTREAMS the router's own list
 * (Backend.upstreams), else one entry for the single backend, named after its kind,
 * its state from the background probe (UpstreamHealth). Synchronous and cheap: /health
 * must answer at once during any storm, so nothing here waits on a model server.
 */
export class UpstreamView {
  private readonly health: UpstreamHealth;
  private single: SingleEntry | undefined;

  constructor(private readonly ctx: UpstreamViewContext) {
    this.health = new UpstreamHealth(ctx.log);
  }

  /** Every model server, in JARVIS_UPSTREAMS's order; one entry without it. */
  list(): UpstreamStatus[] {
    const backend = this.ctx.backend;
    if (backend.upstreams) return backend.upstreams();
    const entry = this.entryFor(backend);
    const state = this.health.read(backend);
    const failure = this.health.lastFailure;
    return [
      {
        name: entry.name,
        kind: entry.kind,
        target: entry.target,
        state: STATE[state],
        // This instance's streams: a single backend has no shared ledger to ask.
        active: this.ctx.registry.size,
        max_parallel: null,
        weight: 1,
        queued: 0,
        models: this.health.models as string[],
        ...(failure ? { last_error: entry.scrub(failure.error), down_since: new Date(failure.since).toISOString() } : {}),
      },
    ];
  }

  /**
   * /health's `upstream`, as before there were several: the single backend's probe;
   * with several, `ok` while any answers, `unknown` while none was probed yet, else `unreachable`.
   */
  summary(list: UpstreamStatus[]): HealthResponse['upstream'] {
    let unknown = 0;
    for (const u of list) {
      if (u.state === 'up') return 'ok';
      if (u.state === 'unknown') unknown++;
    }
    return unknown === list.length ? 'unknown' : 'unreachable';
  }

  /**
   * The metrics label of a stream whose upstream the stream itself does not name:
   * the single backend's kind name; '' with several servers (a stream not routed yet,
   * refused or stopped while it waited in a queue).
   */
  unroutedLabel(): string {
    const backend = this.ctx.backend;
    return backend.upstreams ? '' : backend.name;
  }

  private entryFor(backend: Backend): SingleEntry {
    if (this.single?.backend === backend) return this.single;
    const kind = kindNamed(backend.name);
    const configured = kind ? upstreamOf(kind, this.ctx.config) : undefined;
    const target = configured === undefined ? null : withoutCredentials(configured);
    const scrub = configured === undefined || target === configured ? (error: string) => error : (error: string) => error.split(configured).join(target!);
    this.single = { backend, name: backend.name, kind: backend.name, target, scrub };
    return this.single;
  }
}

/** A URL without its user and password: /health is public. */
export function withoutCredentials(target: string): string {
  try {
    const url = new URL(target);
    if (url.username === '' && url.password === '') return target;
    url.username = '';
    url.password = '';
    // As the router writes its servers' (routedBackend.ts): no trailing slash.
    return url.toString().replace(/\/+$/, '');
  } catch {
    return target;
  }
}
