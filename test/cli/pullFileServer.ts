import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the test server answers one path: the faults `jarvis pull` must survive, staged for real over loopback. */
export interface Route {
  body?: Buffer;
  /** Honour `Range` (206, 416); false: a server that always sends the whole file with 200. */
  ranges?: boolean;
  /** The first request is answered with the full Content-Length but its connection dropped after this many bytes. */
  cutOnceAfter?: number;
  /** Send the body in chunks of this size, one every `chunkEveryMs` (a slow link). */
  chunkBytes?: number;
  chunkEveryMs?: number;
  status?: number;
  redirectTo?: string;
  contentType?: string;
  /** Sent as ETag; an `If-Range` naming another one gets the whole file (200), as RFC 9110 says. */
  etag?: string;
  /** Only this Authorization header is let in (else 401, or 403 when a different one was sent). */
  requireAuthorization?: string;
}

export interface SeenRequest {
  path: string;
  range?: string;
  ifRange?: string;
  authorization?: string;
  status?: number;
}

/** A file server on 127.0.0.1 that records every request it saw (the Range headers above all). */
export class PullFileServer {
  readonly requests: SeenRequest[] = [];
  /** Bytes of body sent per path (counted as written), for tests that act mid-transfer. */
  readonly sent = new Map<string, number>();
  private readonly server: Server;
  private readonly cut = new Set<string>();
  private readonly waiters: Array<() => void> = [];
  /** Pauses of slow routes, ended by stop() so that no timer outlives the test. */
  private readonly pauses = new Map<NodeJS.Timeout, () => void>();

  constructor(private readonly routes: Record<string, Route>) {
    this.server = createServer((req, res) => this.answer(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const [timer, wake] of this.pauses) {
      clearTimeout(timer);
      wake();
    }
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Resolves once `path` has had at least `bytes` of body written (bounded by the test's timeout). */
  async waitForSent(path: string, bytes: number): Promise<void> {
    while ((this.sent.get(path) ?? 0) < bytes) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] as string;
    const seen: SeenRequest = { path, range: req.headers.range, authorization: req.headers.authorization };
    if (req.headers['if-range'] !== undefined) seen.ifRange = String(req.headers['if-range']);
    this.requests.push(seen);
    const route = this.routes[path];
    const reply = (status: number, headers: Record<string, string | number> = {}, body?: Buffer) => {
      seen.status = status;
      res.writeHead(status, headers);
      res.end(body);
    };
    if (!route) return reply(404, { 'content-type': 'text/plain' }, Buffer.from('not found'));
    if (route.redirectTo) return reply(302, { location: route.redirectTo });
    if (route.requireAuthorization !== undefined && req.headers.authorization !== route.requireAuthorization) {
      return reply(req.headers.authorization ? 403 : 401, { 'content-type': 'text/plain' }, Buffer.from('gated'));
    }
    if (route.status) return reply(route.status, { 'content-type': 'text/plain' }, Buffer.from('no'));
    const body = route.body ?? Buffer.alloc(0);
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const type = route.contentType ?? 'application/octet-stream';
    const etag: Record<string, string> = route.etag ? { etag: route.etag } : {};
    const sameFile = seen.ifRange === undefined || seen.ifRange === route.etag;
    if (range && route.ranges !== false && sameFile) {
      start = Number(range[1]);
      if (start >= body.length) return reply(416, { 'content-range': `bytes */${body.length}` });
      seen.status = 206;
      res.writeHead(206, { ...etag, 'content-type': type, 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    } else {
      seen.status = 200;
      res.writeHead(200, { ...etag, 'content-type': type, 'content-length': body.length });
    }
    const rest = body.subarray(start);
    const cutAt = route.cutOnceAfter !== undefined && !this.cut.has(path) ? route.cutOnceAfter : undefined;
    if (cutAt !== undefined) this.cut.add(path);
    void this.send(path, res, cutAt === undefined ? rest : rest.subarray(0, cutAt), cutAt !== undefined, route);
  }

  private async send(path: string, res: ServerResponse, data: Buffer, cutAfter: boolean, route: Route): Promise<void> {
    const size = route.chunkBytes ?? data.length;
    for (let at = 0; at < data.length && !res.destroyed; at += size) {
      const chunk = data.subarray(at, at + size);
      await new Promise<void>((resolve) => res.write(chunk, () => resolve()));
      this.sent.set(path, (this.sent.get(path) ?? 0) + chunk.length);
      this.waiters.splice(0).forEach((wake) => wake());
      if (route.chunkEveryMs && at + size < data.length) await this.pause(route.chunkEveryMs);
    }
    // A cut: the bytes written are flushed to the socket, then the connection dies short of its Content-Length.
    if (cutAfter) res.socket?.destroy();
    else res.end();
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.pauses.delete(timer);
        resolve();
      }, ms);
      this.pauses.set(timer, resolve);
    });
  }
}
