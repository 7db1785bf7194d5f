import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtherOrigin {
  /** e.g. http://127.0.0.2:41234 — another origin (and another site) than Jarvis on 127.0.0.1. */
  url: string;
  /** Serves `html` at `/` from now on. */
  serve(html: string): void;
  close(): Promise<void>;
}

/** A web server on another loopback address: the page a user visits while Jarvis runs. */
export async function startOtherOrigin(host = '127.0.0.2'): Promise<OtherOrigin> {
  let page = '<!doctype html><title>other</title>';
  const server: Server = createServer((req, res) => {
    if (req.url === '/favicon.ico') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    serve: (html) => (page = html),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
