import { readFileSync } from 'node:fs';
import { postJson } from '../lib/client.js';
import type { DirectEngine, Sampling } from '../lib/directEngine.js';
import { engineReply, enginePaths, type EnginePath } from '../lib/engineClient.js';
import { startHealthProbe } from '../lib/healthProbe.js';
import { cpuMs } from '../lib/processes.js';
import type { Server } from '../lib/setup.js';
import { percentile, spread, type Spread } from '../lib/stats.js';

// The embedded engine (docs/embedded.md) measured against node-llama-cpp driven directly
// in the bench's process, on the same GGUF, prompt, seed, sampling and thread count.
// Jarvis runs in its own process (bench/lib/processes.ts), so neither side's llama.cpp
// threads run while the other generates: the runs are interleaved, one at a time.

export const PROMPT = 'Write a long story about a lighthouse keeper and the sea.';

export interface EngineOptions {
  rounds: number;
  /** Answers per path before the measured ones (the first loads the model). */
  warm: number;
  /** Answers per path per round. */
  perRound: number;
  sampling: Sampling;
  stopRounds: number;
  stopsPerRound: number;
  /** How long `/health` is probed while two streams generate (and as long before, idle). */
  healthMs: number;
}

export interface EnginePathRow {
  path: string;
  answers: number;
  /** Completion tokens over request → last byte, per round. */
  tokensPerSecond: Spread;
  /** Per round, this path's rate over direct's in the same round (none for direct). */
  ratio: Spread | undefined;
  ttftP50Ms: Spread;
  ttftP99Ms: Spread;
  addedP50Ms: Spread | undefined;
  addedP99Ms: Spread | undefined;
  /**
   * CPU time of the process that generated (direct: the bench's; else Jarvis's; every thread, llama.cpp's
   * included) per 1,000 tokens, per round: what the machine's load disturbs least.
   */
  cpuMsPer1k: Spread;
  cpuRatio: Spread | undefined;
  /** Jarvis's own share of the first byte (`Server-Timing` `jarvis`), p50 per round. */
  ownP50Ms: Spread | undefined;
  /** Every answer the same text as direct's (same prompt, seed, sampling: the same work). */
  sameText: boolean;
}

export interface EngineStopRow {
  stops: number;
  /** Stop request sent → its answer received (client side), per round. */
  answerP50Ms: Spread;
  answerP99Ms: Spread;
  /** Abort → engine idle as Jarvis measured it (the stop answer's `engine.ms`, else stream_end's `cancel_ms`). */
  engineP50Ms: Spread;
  engineP99Ms: Spread;
  /** Where the engine figure came from. */
  engineSource: 'stop answer' | 'stream_end cancel_ms' | 'engine_stopped ms' | 'none';
  verdicts: Record<string, number>;
  /** Tokens each stopped answer had streamed when Stop was sent, p50 (mid-answer, not at its end). */
  tokensAtStopP50: number;
  failed: number;
}

export interface EngineHealthRow {
  probes: number;
  idleP50Ms: number;
  idleP99Ms: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers the two generating clients completed while probed, and their tokens (the two stopped at the end left out). */
  answers: number;
  tokens: number;
}

export interface EngineMemory {
  /** Live RSS (after a full GC) of the Jarvis process, MB. */
  idleMB: number;
  loadedMB: number;
  afterMB: number;
  /** What `/api/ps` reports for the loaded model (bytes), if it does. */
  psSize: number | undefined;
}

export interface EngineResult {
  wrapper: string;
  model: string;
  paths: EnginePathRow[];
  stop: EngineStopRow;
  health: EngineHealthRow;
  memory: EngineMemory;
}

const MB = 2 ** 20;

/** Jarvis must have been started with JARVIS_BACKEND=embedded and its probe (bench/lib/setup.ts startJarvis), and nothing sent to it yet. */
export async function engine(jarvis: Server, model: string, direct: DirectEngine, o: EngineOptions): Promise<EngineResult> {
  let t = performance.now();
  // Where the section's time goes (stderr, as run.ts times each section).
  const lap = (what: string) => {
    console.error(`(engine, ${what}: ${((performance.now() - t) / 1000).toFixed(1)} s)`);
    t = performance.now();
  };
  const idle = await jarvis.probe();
  const paths = enginePaths(jarvis.url, model);
  // The first answer loads the model; a few more warm both sides.
  for (let i = 0; i < o.warm; i++) {
    await direct.generate(PROMPT, o.sampling);
    for (const p of paths) await expectOk(p, o.sampling, `warm-${p.format}-${i}`);
  }
  const loaded = await jarvis.probe();
  lap('model loaded and warm');
  const ps = (await (await fetch(`${jarvis.url}/api/ps`)).json().catch(() => undefined)) as { models?: Array<{ size?: number }> } | undefined;
  const rows = await compare(direct, paths, jarvis.proc.pid!, o);
  lap('answers compared');
  const stop = await stops(jarvis, paths[0]!, o);
  lap('stops');
  const health = await healthWhileGenerating(jarvis, paths[0]!, o);
  lap('/health');
  const after = await jarvis.probe();
  return {
    wrapper: direct.wrapper,
    model,
    paths: rows,
    stop,
    health,
    memory: { idleMB: idle.rssBytes / MB, loadedMB: loaded.rssBytes / MB, afterMB: after.rssBytes / MB, psSize: ps?.models?.[0]?.size },
  };
}

async function expectOk(path: EnginePath, sampling: Sampling, session: string) {
  const r = await engineReply(path, PROMPT, sampling, { session });
  if (r.status !== 200 || !Number.isFinite(r.ttftMs)) throw new Error(`${path.name}: HTTP ${r.status}, ${Number.isFinite(r.ttftMs) ? '' : 'no token'}`);
  return r;
}

interface Sample {
  ttft: number;
  rate: number;
  own?: number;
}

/** Rounds of answers, the four paths interleaved answer by answer; ratios and added TTFT per round. The
 * first answer's text is the reference every other must match (each path's `sameText`). */
async function compare(direct: DirectEngine, paths: EnginePath[], jarvisPid: number, o: EngineOptions): Promise<EnginePathRow[]> {
  const names = ['node-llama-cpp direct (in-process)', ...paths.map((p) => p.name)];
  const perRound = names.map(() => ({ rate: [] as number[], p50: [] as number[], p99: [] as number[], own: [] as number[], cpu: [] as number[] }));
  const same = names.map(() => true);
  let reference: string | undefined;
  for (let round = 0; round < o.rounds; round++) {
    const samples: Sample[][] = names.map(() => []);
    const cpu = names.map(() => ({ ms: 0, tokens: 0 }));
    for (let i = 0; i < o.perRound; i++) {
      // The order rotates answer by answer: no path always follows the same one (whose tail
      // of work, in its own process, would fall on it).
      for (let n = 0; n < names.length; n++) {
        const k = (i + n) % names.length;
        const p = paths[k - 1];
        const pid = p ? jarvisPid : process.pid;
        const before = cpuMs(pid);
        if (!p) {
          const d = await direct.generate(PROMPT, o.sampling);
          cpu[0]!.ms += cpuMs(pid) - before;
          cpu[0]!.tokens += d.tokens;
          reference ??= d.text;
          same[0] &&= d.text === reference;
          samples[0]!.push({ ttft: d.ttftMs, rate: (d.tokens / d.totalMs) * 1000 });
          continue;
        }
        const r = await expectOk(p, o.sampling, `engine-${round}-${i}-${p.format}`);
        cpu[k]!.ms += cpuMs(pid) - before;
        cpu[k]!.tokens += r.tokens;
        reference ??= r.text;
        same[k] &&= r.text === reference;
        samples[k]!.push({ ttft: r.ttftMs, rate: (r.tokens / r.totalMs) * 1000, own: r.ownMs });
      }
    }
    for (const [k, s] of samples.entries()) {
      const pr = perRound[k]!;
      pr.rate.push(percentile(s.map((x) => x.rate), 50));
      pr.p50.push(percentile(s.map((x) => x.ttft), 50));
      pr.p99.push(percentile(s.map((x) => x.ttft), 99));
      pr.own.push(percentile(s.flatMap((x) => (x.own === undefined ? [] : [x.own])), 50));
      pr.cpu.push((cpu[k]!.ms / cpu[k]!.tokens) * 1000);
    }
  }
  const base = perRound[0]!;
  return names.map((path, k) => {
    const pr = perRound[k]!;
    const vs = (mine: number[], theirs: number[], f: (a: number, b: number) => number) => (k === 0 ? undefined : spread(mine.map((v, i) => f(v, theirs[i]!))));
    return {
      path,
      answers: o.rounds * o.perRound,
      tokensPerSecond: spread(pr.rate),
      ratio: vs(pr.rate, base.rate, (a, b) => a / b),
      ttftP50Ms: spread(pr.p50),
      ttftP99Ms: spread(pr.p99),
      addedP50Ms: vs(pr.p50, base.p50, (a, b) => a - b),
      addedP99Ms: vs(pr.p99, base.p99, (a, b) => a - b),
      cpuMsPer1k: spread(pr.cpu),
      cpuRatio: vs(pr.cpu, base.cpu, (a, b) => a / b),
      ownP50Ms: pr.own.some(Number.isFinite) ? spread(pr.own) : undefined,
      sameText: same[k]!,
    };
  });
}

interface StopAnswer {
  stopped?: boolean;
  engine?: { verdict?: string; ms?: number };
}

/**
 * Many Stops mid-answer: an answer of up to 1,500 tokens streams, Stop is sent once it
 * has streamed a few tokens, and the time to the answer of the stop request is taken,
 * with the engine's own figure (abort → sequence free) and its verdict.
 */
async function stops(jarvis: Server, path: EnginePath, o: EngineOptions): Promise<EngineStopRow> {
  const answerP50: number[] = [];
  const answerP99: number[] = [];
  const engineP50: number[] = [];
  const engineP99: number[] = [];
  const verdicts: Record<string, number> = {};
  const tokensAtStop: number[] = [];
  let source: EngineStopRow['engineSource'] = 'none';
  let failed = 0;
  const long: Sampling = { ...o.sampling, maxTokens: 1500 };
  for (let round = 0; round < o.stopRounds; round++) {
    const answers: number[] = [];
    const engines: number[] = [];
    for (let i = 0; i < o.stopsPerRound; i++) {
      const session = `engine-stop-${round}-${i}-${Math.random().toString(36).slice(2, 6)}`;
      let onFirst!: () => void;
      const first = new Promise<void>((resolve) => (onFirst = resolve));
      const reply = engineReply(path, PROMPT, long, { session, onFirstToken: onFirst });
      const ok = await Promise.race([first.then(() => true), reply.then(() => false)]);
      if (!ok) {
        failed++;
        continue;
      }
      // Mid-answer: a few more tokens after the first.
      await new Promise((r) => setTimeout(r, 10));
      const sent = performance.now();
      const answer = (await postJson(`${jarvis.url}/v1/sessions/${session}/stop`)) as StopAnswer | undefined;
      answers.push(performance.now() - sent);
      const r = await reply;
      const end = await streamEnd(jarvis.logFile, r.streamId);
      if (end?.tokens !== undefined) tokensAtStop.push(end.tokens);
      let ms = answer?.engine?.ms;
      let verdict = answer?.engine?.verdict;
      if (ms !== undefined) source = 'stop answer';
      else if (end?.cancelMs !== undefined) {
        ms = end.cancelMs;
        verdict = end.verdict;
        source = end.source ?? source;
      }
      if (verdict) verdicts[verdict] = (verdicts[verdict] ?? 0) + 1;
      if (ms !== undefined) engines.push(ms);
    }
    answerP50.push(percentile(answers, 50));
    answerP99.push(percentile(answers, 99));
    engineP50.push(percentile(engines, 50));
    engineP99.push(percentile(engines, 99));
  }
  return {
    stops: o.stopRounds * o.stopsPerRound - failed,
    answerP50Ms: spread(answerP50),
    answerP99Ms: spread(answerP99),
    engineP50Ms: spread(engineP50),
    engineP99Ms: spread(engineP99),
    engineSource: source,
    verdicts,
    tokensAtStopP50: percentile(tokensAtStop, 50),
    failed,
  };
}

interface EndLines {
  /** The verdict's `cancel_ms` on `stream_end`, else the embedded backend's own `engine_stopped` `ms`. */
  cancelMs?: number;
  verdict?: string;
  /** `tokens` of `stream_end`: what the stopped answer had streamed. */
  tokens?: number;
  source?: EngineStopRow['engineSource'];
}

/** What the log says of a stream's end (the log is written in batches: waited for, up to 2 s). */
async function streamEnd(logFile: string | undefined, streamId: string | undefined): Promise<EndLines | undefined> {
  if (!logFile || !streamId) return undefined;
  const deadline = Date.now() + 2000;
  for (;;) {
    const lines = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes(`trace=${streamId}`));
    const end = lines.find((l) => l.includes(' stream_end '));
    const engine = lines.find((l) => l.includes(' engine_stopped '));
    if (end && (engine || Date.now() > deadline)) {
      const field = (line: string | undefined, key: string) => (line ? new RegExp(`\\b${key}=([\\w.]+)`).exec(line)?.[1] : undefined);
      const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));
      const tokens = number(field(end, 'tokens'));
      if (field(end, 'cancel_ms') !== undefined) return { cancelMs: number(field(end, 'cancel_ms')), verdict: field(end, 'cancel'), tokens, source: 'stream_end cancel_ms' };
      if (engine) return { cancelMs: number(field(engine, 'ms')), verdict: field(engine, 'verdict'), tokens, source: 'engine_stopped ms' };
      return { tokens };
    }
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `/health` from a worker thread, idle and then while two clients each keep one long answer generating. */
async function healthWhileGenerating(jarvis: Server, path: EnginePath, o: EngineOptions): Promise<EngineHealthRow> {
  const probe = await startHealthProbe(jarvis.url);
  await new Promise((r) => setTimeout(r, o.healthMs));
  probe.mark();
  let running = true;
  let answers = 0;
  let tokens = 0;
  const session = (c: number) => `engine-health-${c}-${Math.random().toString(36).slice(2, 6)}`;
  const sessions = [session(0), session(1)];
  const client = async (c: number) => {
    while (running) {
      const r = await engineReply(path, PROMPT, { ...o.sampling, maxTokens: 1500 }, { session: sessions[c] });
      if (r.status !== 200) throw new Error(`${path.name}: HTTP ${r.status} while measuring /health`);
      if (!running) break;
      answers++;
      tokens += r.tokens;
    }
  };
  const clients = Promise.all([client(0), client(1)]);
  await new Promise((r) => setTimeout(r, o.healthMs));
  // The probes after this mark (the answers being stopped) are left out; so are the stopped answers.
  probe.mark();
  running = false;
  await Promise.all(sessions.map((s) => postJson(`${jarvis.url}/v1/sessions/${s}/stop`)));
  await clients;
  const [idle = [], busy = []] = await probe.stop();
  return {
    probes: busy.length,
    idleP50Ms: percentile(idle, 50),
    idleP99Ms: percentile(idle, 99),
    p50Ms: percentile(busy, 50),
    p99Ms: percentile(busy, 99),
    maxMs: Math.max(...busy),
    answers,
    tokens,
  };
}
