import { Worker } from 'node:worker_threads';

// `GET /health` timed from a worker thread, on its own kept-alive connection, every
// 10 ms: the bench's own client work (reading streams) cannot delay the probes.
// `mark()` starts a new phase; `stop()` returns each phase's latencies.
const PROBER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = () => new Promise((resolve, reject) => http.get(workerData.url + workerData.path, { agent, headers: workerData.headers }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
const phases = [[]];
let running = true;
parentPort.on('message', (m) => { if (m === 'mark') phases.push([]); else running = false; });
(async () => {
  await get();
  parentPort.postMessage('ready');
  while (running) {
    const t = performance.now();
    await get();
    phases.at(-1).push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 10));
  }
  parentPort.postMessage({ phases });
})();
`;

export interface HealthProbe {
  /** Later samples go to a new phase. */
  mark(): void;
  /** Each phase's latencies (ms), in order. */
  stop(): Promise<number[][]>;
}

/** `path` and `headers`: a peer's equivalent cheap GET (the floor's, Portkey's `GET /`). */
export async function startHealthProbe(baseUrl: string, options: { path?: string; headers?: Record<string, string> } = {}): Promise<HealthProbe> {
  const worker = new Worker(PROBER, { eval: true, workerData: { url: baseUrl, path: options.path ?? '/health', headers: options.headers ?? {} } });
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const result = new Promise<number[][]>((resolve) => worker.once('message', (m: { phases: number[][] }) => resolve(m.phases)));
  return {
    mark: () => worker.postMessage('mark'),
    async stop() {
      worker.postMessage('stop');
      const phases = await result;
      await worker.terminate();
      return phases;
    },
  };
}
