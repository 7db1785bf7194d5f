import { startHealthProbe } from '../../lib/healthProbe.js';
import { cpuMs } from '../../lib/processes.js';
import type { Upstreams } from '../../lib/setup.js';
import { percentile, slope } from '../../lib/stats.js';
import { PATHS, pickPaths, type CapacityPath, type Subject } from './paths.js';
import { startStreamClients, type StreamClients } from './streams.js';
import { halfSteps, parseSteps, runSteps, type StepFigures, type StepRecord, type Verdict } from './verdict.js';

// How many paced streams each path holds before its answers stutter (docs/benchmark.md
// "Capacity"): streams at a model's pace (20 tokens/s from the fake upstream), each on its own
// session, added in steps of about ×1.4; each step measured for a window once every stream has its
// first token; the stop rule is verdict.ts's.

export const PACE_MS = 50;

export interface CapacityCounts {
  steps: number[];
  windowMs: number;
  /** Client processes the streams are spread over. */
  clients: number;
  paths: string[];
  /** BENCH_CAPACITY_KEEP_GOING=1: every step measured, after a confirmed failure too (the curves on a noisy machine). */
  keepGoing: boolean;
}

/** The counts for a run: BENCH_CAPACITY_STEPS, _WINDOW_MS, _PATHS, _CLIENTS and _KEEP_GOING override them. */
export function capacityCounts(quick: boolean, env: NodeJS.ProcessEnv = process.env): CapacityCounts {
  const window = Number(env.BENCH_CAPACITY_WINDOW_MS);
  const clients = Number(env.BENCH_CAPACITY_CLIENTS);
  return {
    steps: parseSteps(env.BENCH_CAPACITY_STEPS, quick ? [20, 40] : halfSteps(50, 6400)),
    windowMs: window > 0 ? window : quick ? 1000 : 3000,
    clients: clients > 0 ? clients : 2,
    keepGoing: env.BENCH_CAPACITY_KEEP_GOING === '1',
    paths: pickPaths(env.BENCH_CAPACITY_PATHS, quick ? ['direct', 'ndjson'] : PATHS.map((p) => p.short)).map((p) => p.short),
  };
}

export interface CapacityStep extends StepFigures {
  attempt: number;
  healthP50Ms: number;
  /** The path's processes' live RSS after the window (after a full GC; their sum for the cluster), MB. */
  rssMB: number;
  /** Their event-loop delay p99 over the window (the worst of them). */
  serverLoopP99Ms: number;
  /** Their CPU time over the window (from /proc, every thread), ms per second: with the tokens a second, what carrying a token costs (cpuCost). */
  serverCpuMsPerSecond: number;
  /** The busiest client process's event-loop delay p99 and CPU share over the window. */
  clientLoopP99Ms: number;
  clientCpuShare: number;
  /** Tokens each stream received per second over the window (20 when nothing is late). */
  tokensPerStreamPerSecond: number;
  /** The step's new streams: open to first token, s. */
  openSeconds: number;
}

export interface CapacityRow {
  path: string;
  short: string;
  capacity: number;
  failedAt: number | undefined;
  why: string;
  at: (CapacityStep & Verdict) | undefined;
  idleRssMB: number;
  /** Slope of live RSS over the idle process and every step measured, KB per stream. */
  rssPerStreamKB: number;
  /** What its CPU time is made of (see cpuCost). */
  cpu: CpuCost;
  steps: Array<StepRecord<CapacityStep>>;
}

export interface CapacityResult {
  paceMs: number;
  windowMs: number;
  clients: number;
  stepsTried: number[];
  /** Every step was measured, past each path's first confirmed failure too. */
  keepGoing?: boolean;
  rows: CapacityRow[];
}

/**
 * What the path's CPU time is made of, from its steps: a least-squares line of CPU ms per second
 * over tokens per second, over the steps whose streams still got 90 % of their tokens (past that,
 * the process has no more CPU to give and tokens come several to a write). Its slope is what each
 * further token costs; its intercept what the path spends whatever the streams (the `/health`
 * probes every 10 ms, timers), which at 50 streams is most of the CPU.
 */
export function cpuCost(steps: Array<{ tokensPerStreamPerSecond: number; streams: number; serverCpuMsPerSecond: number }>, paceMs = PACE_MS): CpuCost {
  const kept = steps.filter((s) => s.tokensPerStreamPerSecond >= 0.9 * (1000 / paceMs) && Number.isFinite(s.serverCpuMsPerSecond));
  const points = kept.map((s): [number, number] => [s.tokensPerStreamPerSecond * s.streams, s.serverCpuMsPerSecond]);
  const perToken = slope(points);
  const mean = (i: 0 | 1) => points.reduce((n, p) => n + p[i], 0) / points.length;
  return { marginalMsPer1kTokens: perToken * 1000, fixedMsPerSecond: mean(1) - perToken * mean(0), steps: points.length };
}

export interface CpuCost {
  /** CPU ms each further 1,000 tokens cost (the slope). */
  marginalMsPer1kTokens: number;
  /** CPU ms a second the path spends with no tokens (the intercept). */
  fixedMsPerSecond: number;
  /** The steps the line is drawn through. */
  steps: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

/** Live RSS (sum) and event-loop delay p99 (worst) of the path's processes, by the bench probe. */
async function probeAll(subject: Subject): Promise<{ rssMB: number; loopP99Ms: number }> {
  if (subject.servers.length === 0) return { rssMB: NaN, loopP99Ms: NaN };
  const probes = await Promise.all(subject.servers.map((s) => s.probe()));
  return { rssMB: mb(probes.reduce((n, p) => n + p.rssBytes, 0)), loopP99Ms: Math.max(...probes.map((p) => p.eventLoopP99Ms)) };
}

async function runPath(path: CapacityPath, up: Upstreams, clients: StreamClients, counts: CapacityCounts, log: (s: string) => void): Promise<CapacityRow> {
  const max = Math.max(...counts.steps);
  const subject = await path.start(up, max);
  // Long enough to outlive every step of the path (20 tokens/s for 15 minutes); the fake shares one token list among them.
  const prompt = `n=${20 * 900} ms=${PACE_MS}`;
  const spec = { ...subject.spec(prompt), paceMs: PACE_MS, session: `cap-${path.short}-${Date.now().toString(36)}` };
  let alive = 0;
  let next = 0;
  try {
    const idle = await probeAll(subject);
    const measure = async (streams: number, attempt: number): Promise<CapacityStep> => {
      // Tops up to `streams`: the step's new streams, and any an earlier window lost.
      const t = performance.now();
      const need = Math.max(0, streams - alive);
      const opened = need > 0 ? await clients.open(spec, next, next + need, 30_000 + 20 * need) : { started: 0, failed: 0 };
      next += need;
      const openSeconds = (performance.now() - t) / 1000;
      await probeAll(subject); // a full GC and a fresh event-loop histogram before the window, not in it
      await sleep(200);
      const health = await Promise.all(subject.health.map((h) => startHealthProbe(h.url, { path: h.path, headers: h.headers ?? {} })));
      const pids = [...subject.servers.map((srv) => srv.proc.pid!), ...(subject.helperPids ?? [])];
      const cpu = () => pids.reduce((n, pid) => n + cpuMs(pid), 0);
      const cpuBefore = subject.servers.length ? cpu() : NaN;
      const windowStart = performance.now();
      await clients.startWindow();
      await sleep(counts.windowMs);
      const window = await clients.endWindow();
      const cpuSpent = cpu() - cpuBefore;
      const windowSeconds = (performance.now() - windowStart) / 1000;
      const phases = await Promise.all(health.map((h) => h.stop()));
      const after = await probeAll(subject);
      alive = window.alive;
      const healthP99 = Math.max(...phases.map((p) => percentile(p.flat(), 99)));
      const step: CapacityStep = {
        streams,
        attempt,
        addedP50Ms: window.histogram.percentile(50),
        addedP99Ms: window.histogram.percentile(99),
        healthP99Ms: healthP99,
        healthP50Ms: Math.max(...phases.map((p) => percentile(p.flat(), 50))),
        errors: opened.failed + window.ended,
        rssMB: after.rssMB,
        serverLoopP99Ms: after.loopP99Ms,
        serverCpuMsPerSecond: cpuSpent / windowSeconds,
        clientLoopP99Ms: window.clientLoopP99Ms,
        clientCpuShare: window.clientCpuShare,
        tokensPerStreamPerSecond: window.tokens / streams / (counts.windowMs / 1000),
        openSeconds,
      };
      log(
        `(capacity ${path.short} ${streams}${attempt > 1 ? ' again' : ''}: added p50/p99 ${step.addedP50Ms.toFixed(1)}/${step.addedP99Ms.toFixed(1)} ms, /health p99 ${healthP99.toFixed(1)} ms, errors ${step.errors}, RSS ${step.rssMB} MB, server CPU ${step.serverCpuMsPerSecond.toFixed(0)} ms/s, ${step.tokensPerStreamPerSecond.toFixed(1)} tokens/s a stream, client CPU ${(step.clientCpuShare * 100).toFixed(0)} %, opened in ${openSeconds.toFixed(1)} s)`,
      );
      return step;
    };
    const result = await runSteps(counts.steps, measure, { keepGoing: counts.keepGoing });
    // Memory does not depend on the verdict: every step measured is a point of the slope.
    const points = result.steps.map((s): [number, number] => [s.streams, s.attempts.at(-1)!.rssMB * 2 ** 20]);
    const rssPerStreamKB = slope([[0, idle.rssMB * 2 ** 20], ...points]) / 1024;
    const cpu = cpuCost(result.steps.map((st) => st.attempts.at(-1)!));
    return { path: path.name, short: path.short, capacity: result.capacity, failedAt: result.failedAt, why: result.why, at: result.at, idleRssMB: idle.rssMB, rssPerStreamKB, cpu, steps: result.steps };
  } finally {
    await clients.closeAll();
    await subject.stop();
    // The fake's records of this path's requests are not needed again.
    await fetch(`${up.control}/reset`).catch(() => undefined);
  }
}

export async function capacity(up: Upstreams, counts: CapacityCounts, log: (s: string) => void = (s) => console.error(s)): Promise<CapacityResult> {
  const clients = await startStreamClients(counts.clients);
  const rows: CapacityRow[] = [];
  try {
    for (const path of pickPaths(counts.paths.join(','), [])) rows.push(await runPath(path, up, clients, counts, log));
  } finally {
    await clients.stop();
  }
  return { paceMs: PACE_MS, windowMs: counts.windowMs, clients: counts.clients, stepsTried: counts.steps, keepGoing: counts.keepGoing, rows };
}
