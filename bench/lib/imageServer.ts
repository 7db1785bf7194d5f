import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

// The image URLs a hostile key names in its requests (the soak's hostile phase): one
// that drips a byte every 200 ms (it holds an image fetch until Jarvis's fetch timeout),
// and one that answers a big image at once (many of them in one request: amplification).
// It listens on 127.0.0.2, which the soak's Jarvis allow-lists (JARVIS_IMAGE_FETCH_ALLOW)
// as an operator would an internal image host: the soak sends traffic to loopback only,
// and the hostile loopback URLs (127.0.0.1) stay refused.

/** The soak's image host: loopback, allow-listed for its Jarvis. */
export const IMAGE_HOST = '127.0.0.2';

export const BIG_IMAGE_BYTES = 256 * 1024;

export interface ImageServer {
  slowUrl: string;
  bigUrl: string;
  /** How many image requests arrived (a refused URL never reaches here). */
  hits: { slow: number; big: number };
  close(): Promise<void>;
}

export async function startImageServer(host = IMAGE_HOST): Promise<ImageServer> {
  // A PNG signature first: Jarvis takes only bodies that look like images.
  const big = Buffer.alloc(BIG_IMAGE_BYTES, 0x42);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(big);
  const hits = { slow: 0, big: 0 };
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/slow')) {
      hits.slow++;
      res.writeHead(200, { 'content-type': 'image/png' });
      // One byte every 200 ms, for 60 s at most: far past any sane fetch timeout.
      let sent = 0;
      const timer = setInterval(() => (++sent >= 300 ? res.end() : res.write(Buffer.of(0x89))), 200);
      res.on('close', () => clearInterval(timer));
    } else if (req.url?.startsWith('/big')) {
      hits.big++;
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(big.length) });
      res.end(big);
    } else {
      res.writeHead(404).end();
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const base = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    slowUrl: `${base}/slow.png`,
    bigUrl: `${base}/big.png`,
    hits,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
