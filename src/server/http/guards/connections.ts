import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Limits } from '../../../limits.js';
import type { SystemLog } from '../../../log/systemLog.js';
import { wireError } from '../../../shared/errors.js';
import { defaultErrorBody, httpError } from '../../errors.js';
import { ConnectionShares } from '../../fairShare/connectionShares.js';
import { principalOf } from './principal.js';

/** Connections accepted past the cap, allowed to ask only for what is cheap to answer. */
const OVERFLOW_RESERVE = 32;
/** An overflow connection must send its request within this. */
const OVERFLOW_REQUEST_MS = 2000;
/** What an overflow connection may ask for: the liveness probe and the metrics an operator needs most right then. */
const OVERFLOW_PATHS = new Set(['/health', '/metrics']);
/** Sweeping idle connections walks them all: at most this often. */
const SWEEP_EVERY_MS = 250;

const firstRequestTimer = Symbol('jarvis.firstRequestTimer');
const overflow = Symbol('jarvis.overflow');
const inRequest = Symbol('jarvis.inRequest');
type GuardedSocket = Socket & { [firstRequestTimer]?: NodeJS.Timeout | undefined; [overflow]?: boolean; [inRequest]?: boolean };

export interface ConnectionGuard {
  readonly open: number;
  /**
   * With API keys, each key's share of the connections (docs/security.md
   * "Connections, feed followers and reattach readers"): an onRequest hook that
   * must run after the key guard, which is when a request's key is known.
   */
  readonly shareByKey: onRequestHookHandler;
}

/**
 * Bounds what clients' connections may hold (docs/limits.md):
 * - a new connection must send its first request, and every request its headers,
 *   within `headersTimeoutMs`, and its body within `requestTimeoutMs`; an idle
 *   kept-alive connection is closed after `keepAliveTimeoutMs`;
 * - at most `maxConnections` are open (below the fd limit, with room left for
 *   upstream sockets and files). At the cap, connections without a request in
 *   progress (idle, or still sending headers) are closed first; if every
 *   connection is busy, a small reserve of extra connections may still ask for
 *   `/health` or `/metrics` (one request each, then closed), so the server can be
 *   seen to be alive; anything else on them is `503`, and past the reserve new
 *   connections are closed unanswered;
 * - with API keys (`shareByKey`), a key holds at most its share of the
 *   connections, and at the cap a key holding fewer takes the place of the
 *   oldest request of the key holding the most, so that no key at its bound
 *   costs another key its connection.
 */
export function guardConnections(app: FastifyInstance, limits: Limits, log: SystemLog, options: { perKey: boolean | (() => boolean); perClient?: () => number } = { perKey: false }): ConnectionGuard {
  const perKey = typeof options.perKey === 'function' ? options.perKey : () => options.perKey === true;
  const perClient = options.perClient ?? (() => limits.maxConnectionsPerClient);
  const server = app.server;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // Node enforces the two timeouts above by a sweep at this interval (30 s by default).
  (server as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(100, Math.min(500, Math.floor(limits.headersTimeoutMs / 4)));

  const sockets = new Set<GuardedSocket>();
  let overflowOpen = 0;
  let lastSweep = -Infinity;
  let refused = 0;
  let evicted = 0;
  const shares = new ConnectionShares();

  // One listener for every connection and response ('close' comes once): a long stream holds
  // no closure of its own here (docs/benchmark.md "Scale").
  function onSocketClose(this: GuardedSocket): void {
    sockets.delete(this);
    if (this[overflow]) overflowOpen--;
    clearTimeout(this[firstRequestTimer]);
  }

  /** Closes every connection with no request in progress; returns how many. */
  const sweepIdle = (): number => {
    let closed = 0;
    for (const socket of sockets) {
      if (socket[inRequest] || socket[overflow]) continue;
      sockets.delete(socket);
      socket.destroy();
      closed++;
    }
    return closed;
  };

  server.on('connection', (socket: GuardedSocket) => {
    let overCap = sockets.size >= limits.maxConnections;
    if (overCap && performance.now() - lastSweep >= SWEEP_EVERY_MS) {
      lastSweep = performance.now();
      const closed = sweepIdle();
      log.warn('connections_at_cap', { open: sockets.size + closed, max_connections: limits.maxConnections, idle_closed: closed });
      overCap = sockets.size >= limits.maxConnections;
    }
    if (overCap) {
      if (overflowOpen >= OVERFLOW_RESERVE) {
        if (refused++ % 1000 === 0) log.warn('connection_refused', { open: sockets.size, max_connections: limits.maxConnections, refused });
        socket.destroy();
        return;
      }
      overflowOpen++;
      socket[overflow] = true;
    } else {
      sockets.add(socket);
    }
    socket[firstRequestTimer] = setTimeout(() => socket.destroy(), overCap ? OVERFLOW_REQUEST_MS : limits.headersTimeoutMs);
    socket.on('close', onSocketClose);
  });

  server.on('request', (req, res) => {
    const socket = req.socket as GuardedSocket;
    socket[inRequest] = true;
    res.on('close', onResponseClose);
    if (socket[firstRequestTimer] === undefined) return;
    clearTimeout(socket[firstRequestTimer]);
    socket[firstRequestTimer] = undefined;
  });

  // In the request's protocol (Anthropic's shape for an Anthropic client), as every other refusal.
  const busy = (reply: FastifyReply) =>
    reply
      .code(503)
      .header('retry-after', '1')
      .send(defaultErrorBody(wireError('server_busy', { max: limits.maxConnections }), reply.request));

  app.addHook('onRequest', async (request, reply) => {
    const socket = request.raw.socket as GuardedSocket;
    if (!socket[overflow]) return;
    reply.header('connection', 'close');
    if (OVERFLOW_PATHS.has(pathOf(request))) return;
    // With keys, shareByKey decides once the key is known: it may make room.
    if (perKey()) return;
    return busy(reply);
  });

  /**
   * A request of a key: refused past the key's share; on a connection past the
   * cap, served in the place of the oldest request of the key holding the most
   * (closed), when that key holds at least two more; else refused: 429 for the
   * key holding the most, 503 for the others.
   */
  const shareByKey = async (request: FastifyRequest, reply: FastifyReply) => {
    const socket = request.raw.socket as GuardedSocket;
    const principal = principalOf(request);
    if (!principal) {
      if (socket[overflow] && !OVERFLOW_PATHS.has(pathOf(request))) return busy(reply);
      return;
    }
    const key = principal.name;
    if (socket[overflow]) {
      if (OVERFLOW_PATHS.has(pathOf(request))) return;
      const victim = shares.victimFor(key);
      if (!victim) {
        const top = shares.top();
        if (top?.key !== key) return busy(reply);
        throw httpError('too_many_connections_for_client', { held: top.held, max: limits.maxConnections }, { headers: { 'retry-after': '1', connection: 'close' } });
      }
      const victimSocket = victim.res.socket as GuardedSocket | null;
      if (evicted++ % 100 === 0) log.warn('connection_evicted', { key: victim.key, held: victim.held, for_key: key, max_connections: limits.maxConnections, evicted });
      if (victimSocket) sockets.delete(victimSocket);
      victimSocket?.destroy();
      // This connection takes the closed one's place: no longer overflow.
      socket[overflow] = false;
      overflowOpen--;
      sockets.add(socket);
      reply.removeHeader('connection');
    } else if (shares.held(key) >= perClient()) {
      throw httpError('too_many_connections_for_client', { held: shares.held(key) }, { headers: { 'retry-after': '1' } });
    }
    shares.add(key, reply.raw);
  };

  return {
    get open() {
      return sockets.size + overflowOpen;
    },
    shareByKey,
  };
}

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? '';
}

/** The response's connection is free for the idle sweep again. */
function onResponseClose(this: ServerResponse): void {
  const socket = this.req?.socket as GuardedSocket | undefined;
  if (socket) socket[inRequest] = false;
}
