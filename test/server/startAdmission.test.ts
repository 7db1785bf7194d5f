import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HealthResponse } from '../../src/shared/events.js';
import { ADMISSIONS_PER_TURN } from '../../src/server/http/guards/startAdmission.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';

// One client opening thousands of streams at once must not make
// `/health` wait behind them. This is checked by what `/health` itself reports, not by
// a wall-clock figure: a burst of stream requests and a `/health` request reach Jarvis
// in the same read of its sockets (`/health` last), and `/health` must be answered
// before the burst has been handled, i.e. while only a turn's worth of it has started.

let t: TestJarvis | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** A raw HTTP/1.1 client socket: what it received so far, and a promise of its first complete response. */
function rawClient(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (received += d));
  socket.on('error', () => {});
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, connected, received: () => received };
}

describe('stream starts are admitted a few per event-loop turn', () => {
  it('answers /health before a burst of stream requests that arrived with it has been handled', async () => {
    t = await startTestJarvis({ JARVIS_BACKEND: 'demo', JARVIS_MAX_STREAMS_PER_CLIENT: '1000', JARVIS_DEMO_TOKEN_MS: '2' });
    const port = Number(new URL(t.url).port);
    const burst = 200;
    const clients = Array.from({ length: burst }, () => rawClient(port));
    const health = rawClient(port);
    await Promise.all([...clients, health].map((c) => c.connected));
    // Every connection accepted by Jarvis before anything is sent, so the requests are read in the order written.
    const server = t.jarvis.app.server;
    const accepted = () => new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    await expect.poll(accepted, { timeout: 10_000, interval: 10 }).toBe(burst + 1);

    const body = JSON.stringify({ model: 'jarvis-demo', messages: [{ role: 'user', content: 'hello' }] });
    clients.forEach((c, i) =>
      c.socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/x-ndjson\r\n` +
          `X-Session-Id: admit-${i}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      ),
    );
    health.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');

    await expect.poll(() => health.received().includes('\r\n\r\n{') && health.received().trimEnd().endsWith('}'), { timeout: 30_000, interval: 5 }).toBe(true);
    const report = JSON.parse(health.received().slice(health.received().indexOf('\r\n\r\n') + 4)) as HealthResponse;
    // Handled at once, every one of the 200 starts would be live before /health got its turn.
    expect(report.active_streams).toBeLessThanOrEqual(3 * ADMISSIONS_PER_TURN);

    // And every stream of the burst is served in full, in turn.
    await expect.poll(() => clients.filter((c) => c.socket.closed).length, { timeout: 60_000, interval: 50 }).toBe(burst);
    for (const c of clients) {
      expect(c.received()).toMatch(/^HTTP\/1\.1 200 /);
      expect(c.received()).toContain('"type":"done"');
    }
  }, 90_000);
});
