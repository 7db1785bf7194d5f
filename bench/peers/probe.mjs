// Loaded into every process the benchmark measures (Jarvis and its peers), with
// `node --expose-gc --import ./bench/peers/probe.mjs …`, so that each is measured the
// same way and nothing in their own code has to change for it.
//
// On SIGUSR2 the process prints one line, `{"probe":{…}}`, on stdout:
// - eventLoopP99Ms: its event-loop delay p99 since the previous probe (Node's
//   monitorEventLoopDelay; the 10 ms sampling interval is taken off, as it is from
//   prom-client's figure);
// - then, after two full garbage collections, rssBytes and heapUsedBytes: live memory,
//   not memory the collector has yet to reclaim. (A figure taken without a GC can go
//   down as more streams are opened, which is how the old bench once reported
//   -214 KB per stream.)

import { monitorEventLoopDelay } from 'node:perf_hooks';

const RESOLUTION_MS = 10;
const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
loop.enable();

process.on('SIGUSR2', () => {
  const eventLoopP99Ms = Math.max(0, loop.percentile(99) / 1e6 - RESOLUTION_MS);
  const gc = globalThis.gc;
  if (typeof gc !== 'function') throw new Error('bench/peers/probe.mjs needs node --expose-gc');
  gc();
  gc();
  const memory = process.memoryUsage();
  loop.reset();
  process.stdout.write(`\n${JSON.stringify({ probe: { eventLoopP99Ms, rssBytes: memory.rss, heapUsedBytes: memory.heapUsed } })}\n`);
});
