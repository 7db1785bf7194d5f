import { kindNamed } from '../registry.js';
import { BackendError } from '../types.js';
import type { UpstreamCatalog } from './catalog.js';
import type { Upstream, UpstreamHealthBoard } from './types.js';

/** A probe that has not answered by then counts as a failure. */
const PROBE_TIMEOUT_MS = 1500;

/**
 * Asks every server whether it answers, each its own way (its kind's probe: Ollama's
 * `/api/tags`, an OpenAI-compatible server's `/v1/models`, the engine's models folder),
 * every `intervalMs`, and a server that is down once its back-off has passed
 * (docs/upstreams.md "Health and failover"). A probe's model list refreshes the catalog.
 * One probe per server in flight at most; the timer does not hold the process open.
 */
export class UpstreamProber {
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<string>();
  private readonly lastProbe = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly upstreams: readonly Upstream[],
    private readonly catalog: UpstreamCatalog,
    private readonly board: UpstreamHealthBoard,
    private readonly intervalMs: number,
  ) {}

  /** Probes every server once, together (start-up). */
  async probeAll(timeoutMs = PROBE_TIMEOUT_MS): Promise<void> {
    await Promise.all(this.upstreams.map((upstream) => this.probe(upstream, timeoutMs)));
  }

  start(): void {
    // A tick of at most a second: a server whose back-off ends is asked again within it.
    const tick = Math.min(this.intervalMs, 1000);
    const run = () => {
      if (this.stopped) return;
      const now = Date.now();
      for (const upstream of this.upstreams) {
        const name = upstream.spec.name;
        const health = this.board.get(name);
        const due = health.state === 'down' ? now >= (health.retryAt ?? 0) : now - (this.lastProbe.get(name) ?? 0) >= this.intervalMs;
        if (due) void this.probe(upstream);
      }
      this.timer = setTimeout(run, tick);
      this.timer.unref();
    };
    this.timer = setTimeout(run, tick);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async probe(upstream: Upstream, timeoutMs = PROBE_TIMEOUT_MS): Promise<void> {
    const name = upstream.spec.name;
    if (this.inFlight.has(name)) return;
    this.inFlight.add(name);
    this.lastProbe.set(name, Date.now());
    try {
      const kind = kindNamed(upstream.spec.kind)!;
      const models = await kind.probe(upstream.backend, AbortSignal.timeout(timeoutMs));
      if (this.stopped) return;
      this.catalog.set(name, models);
      this.board.markUp(name);
    } catch (err) {
      if (this.stopped) return;
      this.board.markDown(name, err instanceof BackendError || err instanceof Error ? err.message : String(err));
    } finally {
      this.inFlight.delete(name);
    }
  }
}
