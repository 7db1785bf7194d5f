import http from 'node:http';
import { agent } from '../lib/client.js';
import { percentile } from '../lib/stats.js';
import { rssBytes } from '../lib/processes.js';

export interface ScaleRow {
  backend: string;
  streams: number;
  rssPerStreamKB: number;
  eventLoopP99Ms: number;
  healthP99Ms: number;
  healthMaxMs: number;
  errors: number;
  openSeconds: number;
}

interface OpenStream {
  req: http.ClientRequest;
  firstToken: Promise<void>;
  failed: boolean;
}

/** Opens one slow stream on its own session; resolves once its headers are in. */
function openStream(url: string, body: string, session: string, onError: () => void): Promise<OpenStream> {
  return new Promise((resolve) => {
    let first!: () => void;
    const firstToken = new Promise<void>((r) => (first = r));
    const stream: OpenStream = { req: undefined as unknown as http.ClientRequest, firstToken, failed: false };
    const fail = () => {
      if (stream.failed) return;
      stream.failed = true;
      onError();
      first();
      resolve(stream);
    };
    stream.req = http.request(
      `${url}/v1/chat/completions`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'application/x-ndjson', 'x-session-id': session } },
      (res) => {
        if (res.statusCode !== 200) fail();
        let seen = '';
        res.on('data', (chunk: Buffer) => {
          if (seen !== 'done' && (seen += chunk.toString('latin1')).includes('"type":"token"')) {
            seen = 'done';
            first();
          }
        });
        res.on('error', () => {});
        resolve(stream);
      },
    );
    stream.req.on('error', () => {
      if (!stream.req.destroyed || !stopping) fail();
    });
    stream.req.end(body);
  });
}

let stopping = false;

/**
 * Jarvis's event-loop delay p99 from its /metrics (prom-client). Node's histogram
 * behind it records each whole 10 ms sampling interval, so an idle loop reads
 * about 10 ms: the delay is what exceeds the interval.
 */
async function scrapeEventLoopP99(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text);
  return m ? Math.max(0, Number(m[1]) * 1000 - 10) : NaN;
}

/**
 * N concurrent slow streams (one token a second), each its own session: Jarvis's
 * memory per stream, its event-loop delay, and /health latency while they run.
 */
export async function scale(url: string, pid: number, backend: string, streams: number, prompt: string, measureMs: number): Promise<ScaleRow> {
  stopping = false;
  let errors = 0;
  const body = JSON.stringify({ messages: [{ role: 'user', content: prompt }] });
  const rssBefore = rssBytes(pid);
  const opened: OpenStream[] = [];
  const openStart = performance.now();
  for (let i = 0; i < streams; i += 250) {
    const batch = [];
    for (let k = i; k < Math.min(streams, i + 250); k++) batch.push(openStream(url, body, `scale-${streams}-${k}`, () => errors++));
    opened.push(...(await Promise.all(batch)));
  }
  await Promise.all(opened.map((s) => s.firstToken));
  const openSeconds = (performance.now() - openStart) / 1000;

  await scrapeEventLoopP99(url); // resets the histogram: measure only the window below
  const health: number[] = [];
  const until = performance.now() + measureMs;
  while (performance.now() < until) {
    const t = performance.now();
    const res = await fetch(`${url}/health`);
    await res.json();
    if (res.status !== 200) errors++;
    health.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 20));
  }
  const eventLoopP99Ms = await scrapeEventLoopP99(url);
  const rssLoaded = rssBytes(pid);

  stopping = true;
  for (const s of opened) s.req.destroy();
  // All streams must end on the server (client_closed) before the next level.
  for (;;) {
    const h = (await (await fetch(`${url}/health`)).json()) as { active_streams: number };
    if (h.active_streams === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    backend,
    streams,
    rssPerStreamKB: (rssLoaded - rssBefore) / streams / 1024,
    eventLoopP99Ms,
    healthP99Ms: percentile(health, 99),
    healthMaxMs: Math.max(...health),
    errors,
    openSeconds,
  };
}
