import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timedStream, type Target } from '../lib/client.js';
import { cpuMs } from '../lib/processes.js';
import { fmt, fmtSpread, table } from '../lib/report.js';
import { jarvisOllama, type Upstreams } from '../lib/setup.js';
import { percentile, spread, type Spread } from '../lib/stats.js';
import { curlSeconds } from './throughput.js';

// What tracing costs (docs/observability.md "Traces (OpenTelemetry)", cost): the same Jarvis twice, tracing
// off and tracing on (exporting OTLP/protobuf to a receiver on loopback), measured in pairs, round by round.

export interface TracingResult {
  /** Tokens per second of one long stream, tracing off and on, per round; and on ÷ off, per round. */
  tokensPerSecond: { off: Spread; on: Spread; ratio: Spread };
  /** Time to first token of 3-token replies: each round's p50 and p99, off and on; and on − off (p50), per round. */
  ttftMs: { offP50: Spread; onP50: Spread; offP99: Spread; onP99: Spread; addedP50: Spread };
  /** Each Jarvis's own CPU time per 1,000 tokens over all the throughput rounds (from /proc: steadier than rates on a shared machine). */
  cpuMsPer1k: { off: number; on: number };
  /** Each Jarvis's own CPU time per short stream (the TTFT rounds' 3-token replies): what tracing adds per stream. */
  cpuMsPerStream: { off: number; on: number };
  /** What the receiver got from the traced Jarvis: export requests and their bytes. */
  exports: number;
  exportBytes: number;
}

export interface TracingCounts {
  tokens: number;
  rounds: number;
  ttft: number;
}

/** A collector's OTLP/HTTP endpoint that reads and counts what it is sent, and answers 200. */
async function startReceiver(): Promise<{ url: string; server: HttpServer; posts: () => number; bytes: () => number }> {
  let posts = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      posts++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, posts: () => posts, bytes: () => bytes };
}

export async function tracingCost(up: Upstreams, template: Target, n: TracingCounts): Promise<TracingResult> {
  const receiver = await startReceiver();
  const [offServer, onServer] = await Promise.all([jarvisOllama(up), jarvisOllama(up, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '1000' })]);
  try {
    const off: Target = { ...template, name: 'tracing off', url: `${offServer.url}/v1/chat/completions`, baseline: undefined };
    const on: Target = { ...template, name: 'tracing on', url: `${onServer.url}/v1/chat/completions`, baseline: undefined };
    // Each round takes the two in turn, the first one alternating: the one measured second would
    // otherwise always share the machine with the first one's clean-up.
    const pairs = Array.from({ length: n.rounds }, (_, round) => (round % 2 === 0 ? [off, on] : [on, off]));
    for (const target of [off, on]) await curlSeconds(target, 'n=5000 burst', 5000);
    const rate = { off: [] as number[], on: [] as number[] };
    const cpu = { off: 0, on: 0 };
    for (const pair of pairs) {
      for (const target of pair) {
        const which = target === off ? 'off' : 'on';
        const pid = (which === 'off' ? offServer : onServer).proc.pid!;
        const before = cpuMs(pid);
        rate[which].push(n.tokens / (await curlSeconds(target, `n=${n.tokens} burst`, n.tokens)));
        cpu[which] += cpuMs(pid) - before;
      }
    }
    for (const target of [off, on]) for (let i = 0; i < 20; i++) await timedStream(target, 'n=3', { session: `tr-warm-${i}` });
    const p50 = { off: [] as number[], on: [] as number[] };
    const p99 = { off: [] as number[], on: [] as number[] };
    const pids = { off: offServer.proc.pid!, on: onServer.proc.pid! };
    const shortCpu = { off: 0, on: 0 };
    for (const [round, pair] of pairs.entries()) {
      const ms = { off: [] as number[], on: [] as number[] };
      for (let i = 0; i < n.ttft; i++) {
        for (const target of i % 2 === 0 ? pair : [...pair].reverse()) {
          const which = target === off ? 'off' : 'on';
          const before = cpuMs(pids[which]);
          const r = await timedStream(target, 'n=3', { session: `tr-${round}-${i}` });
          shortCpu[which] += cpuMs(pids[which]) - before;
          if (r.status !== 200) throw new Error(`${target.name}: HTTP ${r.status}`);
          ms[target === off ? 'off' : 'on'].push(r.ttftMs);
        }
      }
      for (const k of ['off', 'on'] as const) {
        p50[k].push(percentile(ms[k], 50));
        p99[k].push(percentile(ms[k], 99));
      }
    }
    // The last batch goes out on shutdown: what the receiver counted by then is every span.
    await onServer.stop();
    return {
      tokensPerSecond: { off: spread(rate.off), on: spread(rate.on), ratio: spread(rate.on.map((r, i) => r / rate.off[i]!)) },
      ttftMs: { offP50: spread(p50.off), onP50: spread(p50.on), offP99: spread(p99.off), onP99: spread(p99.on), addedP50: spread(p50.on.map((v, i) => v - p50.off[i]!)) },
      cpuMsPer1k: { off: (cpu.off / (n.tokens * n.rounds)) * 1000, on: (cpu.on / (n.tokens * n.rounds)) * 1000 },
      cpuMsPerStream: { off: shortCpu.off / (n.rounds * n.ttft), on: shortCpu.on / (n.rounds * n.ttft) },
      exports: receiver.posts(),
      exportBytes: receiver.bytes(),
    };
  } finally {
    await Promise.all([offServer.stop(), onServer.stop()]);
    receiver.server.closeAllConnections();
    receiver.server.close();
  }
}

/** The section as `npm run bench -- --only tracing` runs it: measured, reported through `say`, its figures returned for the results file. */
export async function tracingSection(up: Upstreams, template: Target, n: TracingCounts, say: (text: string) => void): Promise<TracingResult> {
  const result = await tracingCost(up, template, n);
  say(tracingReport(result, n));
  return result;
}

export function tracingReport(r: TracingResult, n: TracingCounts): string {
  const { tokensPerSecond: tp, ttftMs: tt } = r;
  return [
    `\n## Tracing: off and on (OTLP/protobuf to a receiver on loopback), ${n.rounds} rounds, paired\n`,
    table(
      ['tracing', `tokens/s (one stream of ${n.tokens})`, 'TTFT p50 ms', 'TTFT p99 ms'],
      [
        ['off', fmtSpread(tp.off, 0), fmtSpread(tt.offP50, 2), fmtSpread(tt.offP99, 2)],
        ['on', fmtSpread(tp.on, 0), fmtSpread(tt.onP50, 2), fmtSpread(tt.onP99, 2)],
      ],
    ),
    `\nOn ÷ off, tokens/s per round: ${fmtSpread(tp.ratio, 3)}; on − off, TTFT p50 per round: ${fmtSpread(tt.addedP50, 2)} ms.`,
    `Jarvis's own CPU time per 1,000 tokens (all throughput rounds, from /proc): ${fmt(r.cpuMsPer1k.off, 2)} ms off, ${fmt(r.cpuMsPer1k.on, 2)} ms on; per 3-token stream: ${fmt(r.cpuMsPerStream.off, 2)} ms off, ${fmt(r.cpuMsPerStream.on, 2)} ms on.`,
    `The traced Jarvis sent ${r.exports} export requests, ${Math.round(r.exportBytes / 1024)} KiB in all (two spans per stream: the request's and the stream's).`,
  ].join('\n');
}
