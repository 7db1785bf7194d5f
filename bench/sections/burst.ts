import http from 'node:http';
import { Worker } from 'node:worker_threads';
import { percentile } from '../lib/stats.js';

export interface BurstRow {
  backend: string;
  streams: number;
  probes: number;
  /** /health before the burst, on the same connection: the machine's own latency in this run, to judge the rest by. */
  idleP50Ms: number;
  idleP99Ms: number;
  healthP50Ms: number;
  healthP99Ms: number;
  healthMaxMs: number;
  /** Streams that did not answer 200 with a first token. */
  errors: number;
  /** From the first request sent to every stream's first token. */
  openSeconds: number;
}

// /health is probed from a worker thread, on its own kept-alive connection, so the
// burst's own client work does not delay the probes.
const PROBER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = () => new Promise((resolve, reject) => http.get(workerData.url + '/health', { agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
const idle = [];
const latencies = [];
let samples = idle;
let running = true;
parentPort.on('message', (m) => { if (m === 'burst') samples = latencies; else running = false; });
(async () => {
  await get();
  parentPort.postMessage('ready');
  while (running) {
    const t = performance.now();
    await get();
    samples.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 10));
  }
  parentPort.postMessage({ idle, latencies });
})();
`;

/**
 * One client opens `streams` slow streams at once (one agent, no batching, each its
 * own session), as a single abusive or busy client would: /health latency while
 * they open and for `holdMs` after every stream has its first token, and for
 * `holdMs` before the burst (the baseline of the same run).
 */
export async function burst(url: string, backend: string, streams: number, body: unknown, holdMs: number): Promise<BurstRow> {
  const prober = new Worker(PROBER, { eval: true, workerData: { url } });
  await new Promise((resolve) => prober.once('message', resolve));
  const latencies = new Promise<{ idle: number[]; latencies: number[] }>((resolve) => prober.once('message', resolve));
  await new Promise((r) => setTimeout(r, holdMs));
  prober.postMessage('burst');

  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const payload = JSON.stringify(body);
  const requests: http.ClientRequest[] = [];
  let errors = 0;
  const started = performance.now();
  const firstTokens = Array.from(
    { length: streams },
    (_, i) =>
      new Promise<void>((resolve) => {
        const fail = () => {
          errors++;
          resolve();
        };
        const req = http.request(`${url}/v1/chat/completions`, { method: 'POST', agent, headers: { 'content-type': 'application/json', accept: 'application/x-ndjson', 'x-session-id': `burst-${i}` } }, (res) => {
          if (res.statusCode !== 200) fail();
          let head = '';
          res.on('data', (chunk: Buffer) => {
            if (head === 'seen') return;
            head += chunk.toString('latin1');
            if (head.includes('"type":"token"')) {
              head = 'seen';
              resolve();
            }
          });
          res.on('error', () => {});
          res.on('end', resolve);
        });
        req.on('error', fail);
        req.end(payload);
        requests.push(req);
      }),
  );
  await Promise.all(firstTokens);
  const openSeconds = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, holdMs));
  prober.postMessage('stop');
  const { idle, latencies: samples } = await latencies;
  await prober.terminate();
  for (const req of requests) req.destroy();
  agent.destroy();
  // Every stream must have ended on the server before the next measurement.
  for (;;) {
    const h = (await (await fetch(`${url}/health`)).json()) as { active_streams: number };
    if (h.active_streams === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    backend,
    streams,
    probes: samples.length,
    idleP50Ms: percentile(idle, 50),
    idleP99Ms: percentile(idle, 99),
    healthP50Ms: percentile(samples, 50),
    healthP99Ms: percentile(samples, 99),
    healthMaxMs: Math.max(...samples),
    errors,
    openSeconds,
  };
}
