import { fmt, table } from '../../lib/report.js';
import { LIMITS } from './verdict.js';
import type { CapacityResult, CapacityRow } from './section.js';

// The capacity section's tables (docs/benchmark.md "Capacity"): one row per path, then every
// step as measured.

const n = (v: number) => v.toLocaleString('en');

/** Streams whose tokens would fill one core's second of CPU at the path's marginal cost. */
export const streamsPerCore = (msPer1kTokens: number, paceMs: number): number => Math.round(1e6 / (msPer1kTokens * (1000 / paceMs)));

function failed(r: CapacityRow): string {
  if (r.failedAt === undefined) return `none up to ${n(r.steps.at(-1)?.streams ?? 0)}`;
  return `${n(r.failedAt)}: ${r.why}`;
}

export function capacityReport(r: CapacityResult): string {
  const out: string[] = [];
  out.push(`\n## Capacity: streams at a model's pace (${1000 / r.paceMs} tokens/s each, each its own session) until answers stutter\n`);
  out.push(
    table(
      ['path', 'capacity (streams)', 'failed at, why', 'added inter-token p50 / p99 ms', '/health p99 ms', 'RSS MB', 'RSS per stream KB', 'CPU ms per 1,000 more tokens / fixed ms/s', 'streams one core could carry', 'busiest client CPU'],
      r.rows.map((x) => [
        x.path,
        n(x.capacity),
        failed(x),
        x.at ? `${fmt(x.at.addedP50Ms)} / ${fmt(x.at.addedP99Ms)}` : 'n/a',
        x.at ? fmt(x.at.healthP99Ms) : 'n/a',
        x.at ? fmt(x.at.rssMB) : 'n/a',
        fmt(x.rssPerStreamKB),
        Number.isFinite(x.cpu.marginalMsPer1kTokens) ? `${fmt(x.cpu.marginalMsPer1kTokens)} / ${fmt(x.cpu.fixedMsPerSecond, 0)}` : 'n/a',
        x.cpu.marginalMsPer1kTokens > 0 ? n(streamsPerCore(x.cpu.marginalMsPer1kTokens, r.paceMs)) : 'n/a',
        x.at ? `${fmt(x.at.clientCpuShare * 100, 0)} %` : 'n/a',
      ]),
    ),
  );
  out.push(
    `\n(Steps ${r.stepsTried.map(n).join(', ')}; each held for ${n(r.windowMs)} ms once all its streams had their first token${r.keepGoing ? '; every step measured, past a path’s first confirmed failure too (BENCH_CAPACITY_KEEP_GOING)' : ''}. Added inter-token delay: the gap between two tokens as the client sees it, less the upstream's ${r.paceMs} ms. A step passes with added p99 ≤ ${LIMITS.addedP99Ms} ms, \`/health\` p99 ≤ ${LIMITS.healthP99Ms} ms and no stream failed; a failing step is measured once more before it counts. Capacity, and the figures beside it, are the last passing step's. RSS: the path's processes after a full GC (the cluster's two instances together; direct has none: the upstream is the model); per stream, the slope over the idle process and every step measured. CPU: the path's processes' CPU time over each window (from /proc, every thread; the cluster's two instances and its redis-server together), as a line of CPU ms a second over tokens a second through the steps whose streams still got 90 % of their tokens: its slope is what 1,000 more tokens cost, its intercept what the path spends whatever the streams (the \`/health\` probe every 10 ms among it); a shared machine's load disturbs these far less than a latency. Streams one core could carry: one second of CPU over what a stream's ${1000 / r.paceMs} tokens a second cost at the margin (JavaScript runs on one core per process; the cluster's figure is for its processes together, which may use two). The streams are read by ${r.clients} client processes; the busiest one's CPU share says whether the client kept up.)`,
  );
  const steps = r.rows.flatMap((x) => x.steps.flatMap((s) => s.attempts.map((a) => ({ path: x.short, ...a }))));
  out.push('\n### Every step\n');
  out.push(
    table(
      ['path', 'streams', 'added p50 / p99 ms', '/health p50 / p99 ms', 'errors', 'tokens/s a stream', 'RSS MB', 'server loop p99 ms', 'server CPU ms/s', 'client loop p99 ms / CPU', 'opened in s', 'verdict'],
      steps.map((s) => [
        s.path,
        `${n(s.streams)}${s.attempt > 1 ? ' (again)' : ''}`,
        `${fmt(s.addedP50Ms)} / ${fmt(s.addedP99Ms)}`,
        `${fmt(s.healthP50Ms)} / ${fmt(s.healthP99Ms)}`,
        s.errors,
        fmt(s.tokensPerStreamPerSecond),
        fmt(s.rssMB),
        fmt(s.serverLoopP99Ms),
        fmt(s.serverCpuMsPerSecond, 0),
        `${fmt(s.clientLoopP99Ms)} / ${fmt(s.clientCpuShare * 100, 0)} %`,
        fmt(s.openSeconds),
        s.pass ? 'pass' : `fail: ${s.why}`,
      ]),
    ),
  );
  return out.join('\n');
}
