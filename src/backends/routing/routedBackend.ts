import type { UpstreamStatus } from '../../shared/events.js';
import type { EmbedRequest, EmbedResult, ModelDescription, RunningModel } from '../modelInfo.js';
import { kindNamed } from '../registry.js';
import type { LingeringWork, UpstreamLink } from '../upstream/upstreamLink.js';
import { BackendError, type Backend, type BackendChunk, type BackendFeatures, type BackendRequest } from '../types.js';
import { bare } from './catalog.js';
import type { UpstreamProber } from './prober.js';
import { routedStream, type RouteDeps } from './routedStream.js';
import type { Upstream } from './types.js';

/** The name /health, the log and error messages give the router (there is no kind of that name). */
export const ROUTED_BACKEND_NAME = 'upstreams';

/**
 * Several model servers behind one Backend (docs/upstreams.md): each request goes to a server
 * that serves its model (routedStream.ts), each listing is the union of the servers'. The
 * routes, the session rules and the stream core see one backend, as with a single server.
 */
export class RoutedBackend implements Backend {
  readonly name = ROUTED_BACKEND_NAME;
  private readonly byName: ReadonlyMap<string, Upstream>;
  private readonly order: readonly Upstream[];

  constructor(
    private readonly deps: RouteDeps,
    private readonly prober: UpstreamProber,
  ) {
    this.byName = deps.upstreams;
    this.order = [...deps.upstreams.values()];
  }

  stream(request: BackendRequest, signal: AbortSignal, link?: UpstreamLink): AsyncIterable<BackendChunk[]> {
    return routedStream(this.deps, request, signal, link);
  }

  /**
   * What the servers of `model` serve together: a request asking for more is refused before it
   * starts. Down ones count too: a request only they could serve waits for them like any other
   * (and is told they are down), not told to find a server that serves it.
   */
  featuresFor(model: string): BackendFeatures | undefined {
    const features: BackendFeatures = {};
    for (const upstream of this.deps.catalog.serving(model).map((spec) => this.byName.get(spec.name)!)) {
      if (upstream.backend.features?.logprobs) features.logprobs = true;
      if (upstream.backend.features?.choices) features.choices = true;
    }
    return features;
  }

  servedBy(model: string): string[] {
    return this.deps.catalog.serving(model).map((spec) => spec.name);
  }

  /** The union, from what the last probes read: answers at once, whatever the servers do. */
  async models(): Promise<string[]> {
    const union = this.deps.catalog.union();
    if (union.length === 0 && this.order.every((u) => this.deps.board.get(u.spec.name).state === 'down')) {
      throw new BackendError('upstream_unavailable', `no model server answers: ${this.order.map((u) => `${u.spec.name} (${this.deps.board.get(u.spec.name).lastError ?? 'not answering'})`).join('; ')}`);
    }
    return union.map((m) => m.id);
  }

  async listModels(signal?: AbortSignal): Promise<ModelDescription[]> {
    const seen = new Set<string>();
    const lists = await Promise.all(this.up().map((u) => u.backend.listModels(signal).then((list) => ({ u, list }), () => ({ u, list: [] as ModelDescription[] }))));
    const out: ModelDescription[] = [];
    for (const { u, list } of lists) {
      for (const model of list) {
        const key = bare(model.name);
        if (seen.has(key) || this.deps.catalog.spelling(u.spec.name, model.name) === undefined) continue;
        seen.add(key);
        out.push(model);
      }
    }
    return out;
  }

  async showModel(name: string, signal?: AbortSignal): Promise<ModelDescription> {
    const upstream = this.serving(name)[0];
    if (!upstream) throw new BackendError('model_not_found', `no model server serves the model '${name}'`);
    return upstream.backend.showModel(this.deps.catalog.spelling(upstream.spec.name, name) ?? name, signal);
  }

  async runningModels(signal?: AbortSignal): Promise<RunningModel[]> {
    const lists = await Promise.all(this.up().map((u) => u.backend.runningModels(signal).catch(() => [] as RunningModel[])));
    return lists.flat();
  }

  /** The first Ollama server's version (Ollama clients read it to enable features); else the first that reports one. */
  async version(signal?: AbortSignal): Promise<string | undefined> {
    const ups = this.up();
    const first = ups.find((u) => u.spec.kind === 'ollama') ?? ups[0];
    return first?.backend.version(signal);
  }

  /** Embeddings go to a server of the model that is up, the next one if it cannot be reached. */
  async embed(request: EmbedRequest, signal: AbortSignal): Promise<EmbedResult> {
    const servers = this.serving(request.model);
    if (servers.length === 0) throw new BackendError('model_not_found', `no model server serves the model '${request.model}'`);
    let last: unknown;
    for (const upstream of servers.slice(0, this.deps.tries)) {
      try {
        return await upstream.backend.embed({ ...request, model: this.deps.catalog.spelling(upstream.spec.name, request.model) ?? request.model }, signal);
      } catch (err) {
        last = err;
        if (!(err instanceof BackendError) || err.code !== 'upstream_unavailable' || signal.aborted) throw err;
        this.deps.board.markDown(upstream.spec.name, err.message);
      }
    }
    throw last;
  }

  /** Ollama's load call loads the model on the server the next prompt is most likely to go to: the first that is up. */
  async keepModel(request: { model: string; keepAlive?: string | number }, signal: AbortSignal): Promise<'load' | 'unload'> {
    const upstream = this.serving(request.model)[0];
    if (!upstream) throw new BackendError('model_not_found', `no model server serves the model '${request.model}'`);
    const model = this.deps.catalog.spelling(upstream.spec.name, request.model) ?? request.model;
    if (upstream.backend.keepModel) return upstream.backend.keepModel({ ...request, model }, signal);
    return request.keepAlive === 0 || request.keepAlive === '0' ? 'unload' : 'load';
  }

  async countTokens(request: BackendRequest, signal: AbortSignal): Promise<number> {
    const upstream = this.serving(request.model).find((u) => u.backend.countTokens);
    if (!upstream) throw new BackendError('unsupported', 'no model server of this model counts tokens');
    return upstream.backend.countTokens!({ ...request, model: this.deps.catalog.spelling(upstream.spec.name, request.model) ?? request.model }, signal);
  }

  lingeringWork(): LingeringWork[] {
    return this.order.flatMap((u) => u.backend.lingeringWork?.() ?? []);
  }

  upstreams(): UpstreamStatus[] {
    const now = Date.now();
    return this.order.map(({ spec }) => {
      const health = this.deps.board.get(spec.name);
      const models = this.deps.catalog.modelsOf(spec.name);
      const queued = new Set(models.map(bare));
      let waiting = 0;
      for (const queue of queued) waiting += this.deps.ledger.queued(queue);
      return {
        name: spec.name,
        kind: spec.kind,
        target: targetOf(spec.kind, spec.target),
        state: health.state,
        active: this.deps.ledger.active(spec.name),
        max_parallel: Number.isFinite(spec.maxParallel) ? spec.maxParallel : null,
        weight: spec.weight,
        queued: waiting,
        models,
        ...(health.lastError ? { last_error: health.lastError } : {}),
        ...(health.state === 'down' && health.downSince !== undefined ? { down_since: new Date(health.downSince).toISOString() } : {}),
        ...(health.state === 'down' && health.retryAt !== undefined ? { retry_in_ms: Math.max(0, health.retryAt - now) } : {}),
      };
    });
  }

  async close(): Promise<void> {
    this.prober.stop();
    await this.deps.ledger.close();
    await Promise.all(this.order.map((u) => u.backend.close?.().catch(() => {})));
    await this.deps.board.close();
    await this.deps.affinity.close();
  }

  /** The servers of `model` that are not down, in JARVIS_UPSTREAMS's order. */
  private serving(model: string): Upstream[] {
    return this.deps.catalog
      .serving(model)
      .filter((spec) => this.deps.board.get(spec.name).state !== 'down')
      .map((spec) => this.byName.get(spec.name)!);
  }

  private up(): Upstream[] {
    return this.order.filter((u) => this.deps.board.get(u.spec.name).state !== 'down');
  }
}

/** Where a server is, for /health: its URL without credentials, the models folder, or null (the demo). */
function targetOf(kind: string, target: string): string | null {
  if (!kindNamed(kind)?.targetVariable) return null;
  try {
    const url = new URL(target);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/+$/, '');
  } catch {
    return target;
  }
}
