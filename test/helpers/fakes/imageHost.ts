import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';

/** A 1x1 PNG. */
export const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

type Route = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A web server on a loopback address that tests point image URLs at: it counts
 * every request it gets (so a test can say "Jarvis never asked"), answers each
 * path with its route, and `/png` with a PNG by default.
 */
export class ImageHost {
  /** Every request's path, in order. */
  readonly requests: string[] = [];
  readonly routes = new Map<string, Route>([['/png', (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG)]]);
  private readonly server = http.createServer((req, res) => {
    this.requests.push(req.url ?? '');
    const route = this.routes.get(req.url ?? '');
    if (route) route(req, res);
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  private readonly sockets = new Set<Socket>();
  url = '';

  constructor() {
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async start(address = '127.0.0.1'): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, address, resolve));
    this.url = `http://${address}:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A TCP server on loopback that is no HTTP server: it answers `reply` (or nothing at all) and counts connections. */
export class RawHost {
  connections = 0;
  private readonly sockets = new Set<Socket>();
  private readonly server: net.Server;
  url = '';

  constructor(reply: string | undefined) {
    this.server = net.createServer((socket) => {
      this.connections++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {});
      if (reply !== undefined) socket.end(reply);
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
