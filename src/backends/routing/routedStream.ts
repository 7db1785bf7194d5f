import type { SystemLog } from '../../log/systemLog.js';
import type { UpstreamLink } from '../upstream/upstreamLink.js';
import { BackendError, type BackendChunk, type BackendRequest } from '../types.js';
import { bare, type UpstreamCatalog } from './catalog.js';
import type { AffinityMap, SlotCandidate, SlotLedger, Upstream, UpstreamHealthBoard } from './types.js';

/** What routing a stream reads: the servers and what is known about them. */
export interface RouteDeps {
  upstreams: ReadonlyMap<string, Upstream>;
  catalog: UpstreamCatalog;
  board: UpstreamHealthBoard;
  ledger: SlotLedger;
  affinity: AffinityMap;
  log: SystemLog;
  /** Servers a request is tried on before its first token, the first included. */
  tries: number;
}

/**
 * Whether a failure before the first token is worth another server: `down` marks the server
 * down too (no connection, a 5xx, a broken reply); `elsewhere` leaves it up (its own queue is
 * full, it no longer has the model). Anything else is about the request: no other server would
 * answer it differently.
 */
function failover(err: unknown): 'down' | 'elsewhere' | undefined {
  if (!(err instanceof BackendError)) return undefined;
  if (err.code === 'upstream_unavailable' || err.code === 'upstream_error' || err.code === 'timeout') return 'down';
  if (err.code === 'engine_busy' || err.code === 'model_not_found') return 'elsewhere';
  return undefined;
}

/** Affinity is per key and session: two keys never share a session (docs/api.md "Sessions"). */
function sessionKey(link: UpstreamLink | undefined): string | undefined {
  return link?.sessionId ? `${link.owner ?? ''}\u0000${link.sessionId}` : undefined;
}

/** Whether the server serves what the request asks for besides its model (`logprobs`, `n`). */
function servesAsked(deps: RouteDeps, name: string, request: BackendRequest): boolean {
  const features = deps.upstreams.get(name)!.backend.features;
  if (request.logprobs && !features?.logprobs) return false;
  return !(request.n !== undefined && request.n > 1 && !features?.choices);
}

/** The servers this request may go to now: they serve its model and what it asks for, are not down, and were not tried. */
function candidates(deps: RouteDeps, request: BackendRequest, tried: ReadonlySet<string>): SlotCandidate[] {
  const found: SlotCandidate[] = [];
  for (const spec of deps.catalog.serving(request.model)) {
    if (tried.has(spec.name) || deps.board.get(spec.name).state === 'down' || !servesAsked(deps, spec.name, request)) continue;
    found.push({ name: spec.name, maxParallel: spec.maxParallel, weight: spec.weight });
  }
  return found;
}

/** Why no server can take the request: none serves the model, or every one that serves it (and what it asks for) is down. */
function noServer(deps: RouteDeps, request: BackendRequest): BackendError {
  const model = request.model;
  const serving = deps.catalog.serving(model);
  if (serving.length === 0) {
    const models = deps.catalog.union().map((m) => m.id);
    return new BackendError('model_not_found', `no model server serves the model '${model}'${models.length > 0 ? `; they serve ${models.slice(0, 10).join(', ')}${models.length > 10 ? '…' : ''}` : ''}`);
  }
  // Those that serve the model but not what the request asks for are up, and not the point.
  const able = serving.filter((spec) => servesAsked(deps, spec.name, request));
  const which = able.length < serving.length ? `serves '${model}' with ${request.logprobs ? 'logprobs' : `n=${request.n}`}` : `serves '${model}'`;
  const down = (able.length > 0 ? able : serving).map((spec) => `${spec.name} (${deps.board.get(spec.name).lastError ?? 'not answering'})`);
  return new BackendError('upstream_unavailable', `every model server that ${which} is down: ${down.join('; ')}. Retry when one is back.`);
}

/**
 * The error a client is shown names the server it came from: with two Ollamas, "Ollama stopped
 * answering" alone does not say which one to look at (docs/upstreams.md "Health and failover").
 */
function naming(err: unknown, name: string): unknown {
  if (!(err instanceof BackendError)) return err;
  return new BackendError(err.code, `${err.message} (model server ${name})`, { detail: err.detail, fields: err.fields, status: err.status });
}

/**
 * One stream through the router (docs/upstreams.md "Routing"): a slot on a server that serves
 * the model (the session's last one first, else the least busy for its weight; the queue when
 * all are full), then that server's own stream. A failure before the first batch moves the
 * request to the next server (at most `tries` in all, each logged `upstream_failover`); after
 * it never, so no answer ever mixes two servers: the error ends the stream, naming its server.
 */
export async function* routedStream(deps: RouteDeps, request: BackendRequest, signal: AbortSignal, link?: UpstreamLink): AsyncIterable<BackendChunk[]> {
  const { log } = deps;
  const trace = link?.id;
  const session = sessionKey(link);
  const preferred = session ? await deps.affinity.get(session) : undefined;
  const tried = new Set<string>();
  let lastError: BackendError | undefined;
  for (let attempt = 1; attempt <= deps.tries; attempt++) {
    const found = candidates(deps, request, tried);
    if (found.length === 0) break;
    let announced = false;
    const granted = deps.ledger.acquire(
      {
        id: trace ?? `${Date.now()}-${Math.random()}`,
        owner: link?.owner ?? '',
        queue: bare(request.model),
        candidates: found,
        preferred,
        // Read at each grant: a server that went down while this request waited is not given it.
        usable: (upstream) => deps.board.get(upstream).state !== 'down',
      },
      signal,
      (position) => {
        if (!announced) log.info('upstream_queued', { trace, queue: request.model, position, key: link?.owner || undefined });
        announced = true;
        link?.queued?.(position);
      },
    );
    let grant;
    try {
      grant = await granted;
    } catch (err) {
      // Stopped while it waited in the queue: no server ever had its work, nothing is left to stop.
      if (signal.aborted) link?.engineStopped?.({ verdict: 'confirmed', ms: 0, how: 'not_started' });
      throw err;
    }
    const name = grant.upstream;
    tried.add(name);
    let first = true;
    try {
      link?.routed?.(name);
      log.info('upstream_routed', { trace, upstream: name, attempt, waited_ms: grant.waitedMs, affinity: preferred === undefined ? 'new' : preferred === name ? 'kept' : 'moved' });
      const spelled = deps.catalog.spelling(name, request.model) ?? request.model;
      const own = spelled === request.model ? request : { ...request, model: spelled };
      for await (const batch of deps.upstreams.get(name)!.backend.stream(own, signal, link)) {
        if (first) {
          first = false;
          deps.board.markUp(name);
          if (session) deps.affinity.set(session, name);
        }
        yield batch;
      }
      return;
    } catch (err) {
      const kind = failover(err);
      if (kind === 'down') deps.board.markDown(name, err instanceof Error ? err.message : String(err));
      if (err instanceof BackendError) err.fields.upstream = name;
      if (!first || signal.aborted || kind === undefined || !(err instanceof BackendError)) throw signal.aborted ? err : naming(err, name);
      lastError = err;
      log.warn('upstream_failover', { trace, from: name, code: err.code, error: err.message, attempt });
    } finally {
      grant.release();
    }
  }
  if (!lastError) throw noServer(deps, request);
  // Every server tried failed before its first token: the last one's error, saying so.
  throw new BackendError(lastError.code, `${lastError.message} (tried ${[...tried].join(', ')})`, { detail: lastError.detail, fields: lastError.fields, status: lastError.status });
}
