import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Target } from './lib/client.js';
import { fmt, machine, table } from './lib/report.js';
import { root } from './lib/processes.js';
import { startGateway, startJarvis, startUpstreams, targets, type Upstreams } from './lib/setup.js';
import { burst, type BurstRow } from './sections/burst.js';
import { reattach, storeCost } from './sections/resume.js';
import { scale, type ScaleRow } from './sections/scale.js';
import { stop } from './sections/stop.js';
import { supersede } from './sections/supersede.js';
import { throughput } from './sections/throughput.js';
import { ttft, type TtftRow } from './sections/ttft.js';

// `npm run bench` (about 3 minutes) / `npm run bench -- --quick` (under 30 s, for CI):
// Jarvis measured side by side with direct access to the upstream and with a
// reference gateway built on the Vercel AI SDK, all in the same run.

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } } });
const quick = values.quick ?? false;
// `--only throughput,ttft` runs some sections (for working on one figure); results are then not saved.
const only = values.only?.split(',');
const wanted = (section: string) => !only || only.includes(section);
const N = quick
  ? { tokens: 5000, runs: 1, ttft: 30, supersede: 20, ignore: 3, stop: 20, scale: [100], scaleUpstream: [100], measureMs: 1000, paced: 20, burst: 300, reattach: 30, storeRuns: 1 }
  : { tokens: 50_000, runs: 5, ttft: 200, supersede: 200, ignore: 200, stop: 200, scale: [100, 1000, 10_000], scaleUpstream: [1000, 9000], measureMs: 3000, paced: 100, burst: 3000, reattach: 200, storeRuns: 7 };

const out: string[] = [];
const say = (s: string) => {
  out.push(s);
  console.log(s);
};
const results: Record<string, unknown> = { machine: machine(), quick };

interface Setup {
  up: Upstreams;
  jarvisUrl: string;
  /** The main Jarvis process, for CPU-time figures. */
  jarvisPid: number;
  t: Record<string, Target>;
}

async function throughputSection({ t }: Setup): Promise<void> {
  const paths = [t.directOllama!, t.jarvisNdjson!, t.jarvisSse!, t.directOpenai!, t.gateway!];
  const tp = await throughput(paths, N.tokens, N.runs);
  const paced = await throughput([t.directOllama!, t.jarvisNdjson!, t.jarvisSse!, t.gateway!], N.paced, 1, 20);
  const base = (name: string) => (name === t.gateway!.name ? tp[3]! : tp[0]!).tokensPerSecond;
  results.throughput = { unthrottled: tp, paced50PerSecond: paced };
  say(`## Throughput: one stream of ${N.tokens} tokens, upstream unthrottled (median of ${N.runs})\n`);
  say(table(['path', 'tokens/s', 'ratio to its direct upstream'], tp.map((r) => [r.target, fmt(r.tokensPerSecond, 0), fmt(r.tokensPerSecond / base(r.target), 3)])));
  say(`\nAt a realistic 50 tokens/s (${N.paced} tokens): ${paced.map((r) => `${r.target} ${fmt(r.tokensPerSecond)}`).join(', ')} tokens/s.\n`);
}

async function ttftSection({ t }: Setup): Promise<TtftRow[]> {
  const tt = await ttft([t.directOllama!, t.jarvisNdjson!, t.jarvisSse!, t.directOpenai!, t.gateway!], N.ttft);
  results.ttft = tt;
  const direct = (name: string) => (name === t.gateway!.name ? tt[3]! : tt[0]!);
  say(`## Time to first token (${N.ttft} sequential requests, 3-token replies)\n`);
  say(table(['path', 'p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms'], tt.map((r) => [r.target, fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), fmt(r.p50Ms - direct(r.target).p50Ms, 2), fmt(r.p99Ms - direct(r.target).p99Ms, 2)])));
  return tt;
}

async function supersedeSection({ up, t }: Setup, tt: TtftRow[]): Promise<void> {
  const cooperative = await supersede(t.jarvisNdjson!, up.control, N.supersede, 'cooperative (closes on FIN)');
  const ignoring = await startJarvis({ JARVIS_BACKEND: 'ollama', OLLAMA_HOST: up.ollama, JARVIS_CANCEL_TIMEOUT_MS: '250' });
  try {
    const target = targets(up, ignoring.url, '').jarvisNdjson!;
    const ignored = await supersede(target, up.control, N.ignore, 'ignores aborts (JARVIS_CANCEL_TIMEOUT_MS=250)', true);
    results.supersede = [cooperative, ignored];
    say(`\n## Supersede: A streaming at 50 tokens/s, then B on the same session\n`);
    say(table(['upstream', 'supersedes', "B's request → A's upstream closed p50 / p99 ms", "B's request → B's first token p50 / p99 ms"], [cooperative, ignored].map((r) => [r.upstream, r.supersedes, `${fmt(r.closeP50Ms, 2)} / ${fmt(r.closeP99Ms, 2)}`, `${fmt(r.firstTokenP50Ms, 2)} / ${fmt(r.firstTokenP99Ms, 2)}`])));
    if (tt[0]) say(`\nThe upstream's own time to first token (direct, p50 / p99): ${fmt(tt[0].p50Ms, 2)} / ${fmt(tt[0].p99Ms, 2)} ms.`);
  } finally {
    await ignoring.stop();
  }
}

async function stopSection({ up, jarvisUrl, t }: Setup): Promise<void> {
  const stops = [await stop(t.jarvisNdjson!, jarvisUrl, up.control, N.stop, 'stop endpoint'), await stop(t.jarvisNdjson!, jarvisUrl, up.control, N.stop, 'client disconnect')];
  results.stop = stops;
  say(`\n## Stop → upstream request closed\n`);
  say(table(['how', 'stops', 'p50 ms', 'p99 ms'], stops.map((r) => [r.how, r.stops, fmt(r.p50Ms, 2), fmt(r.p99Ms, 2)])));
}

/** The stream caps raised to the level measured: one client opens every stream. */
const caps = (n: number) => ({ JARVIS_MAX_STREAMS: String(n), JARVIS_MAX_STREAMS_PER_CLIENT: String(n) });

/** Each level on a fresh Jarvis: the demo backend (no upstream socket), then through the fake Ollama. */
async function scaleSection({ up }: Setup): Promise<void> {
  const rows: ScaleRow[] = [];
  const levels: Array<[string, Record<string, string>, number, string]> = [
    ...N.scale.map((n): [string, Record<string, string>, number, string] => ['demo', { JARVIS_BACKEND: 'demo', JARVIS_DEMO_TOKEN_MS: '1000', ...caps(n) }, n, 'scale']),
    ...N.scaleUpstream.map((n): [string, Record<string, string>, number, string] => ['ollama (fake)', { JARVIS_BACKEND: 'ollama', OLLAMA_HOST: up.ollama, ...caps(n) }, n, 'n=60 ms=1000']),
  ];
  for (const [backend, env, n, prompt] of levels) {
    const j = await startJarvis(env);
    try {
      rows.push(await scale(j.url, j.proc.pid!, backend, n, prompt, N.measureMs));
    } finally {
      await j.stop();
    }
  }
  results.scale = rows;
  say(`\n## Scale: concurrent slow streams (1 token/s), each its own session\n`);
  say(table(['backend', 'streams', 'RSS per stream KB', 'event-loop delay p99 ms', '/health p99 ms', '/health max ms', 'errors', 'opened in s'], rows.map((r) => [r.backend, r.streams, fmt(r.rssPerStreamKB), fmt(r.eventLoopP99Ms, 2), fmt(r.healthP99Ms, 2), fmt(r.healthMaxMs, 2), r.errors, fmt(r.openSeconds)])));
}

/** One client opening N slow streams at once through the fake Ollama: /health while they open (issue 10). */
async function burstSection({ up }: Setup): Promise<void> {
  const j = await startJarvis({ JARVIS_BACKEND: 'ollama', OLLAMA_HOST: up.ollama, JARVIS_MAX_STREAMS_PER_CLIENT: String(N.burst) });
  let row: BurstRow;
  try {
    row = await burst(j.url, 'ollama (fake)', N.burst, { model: 'fake-llama:latest', messages: [{ role: 'user', content: 'n=60 ms=1000' }] }, N.measureMs);
  } finally {
    await j.stop();
  }
  results.burst = row;
  say(`\n## One client opens ${N.burst} slow streams at once: /health while they open\n`);
  say(table(['backend', 'streams', 'probes', '/health p50 ms', '/health p99 ms', '/health max ms', 'errors', 'all open in s'], [[row.backend, row.streams, row.probes, fmt(row.healthP50Ms, 2), fmt(row.healthP99Ms, 2), fmt(row.healthMaxMs, 2), row.errors, fmt(row.openSeconds)]]));
}

async function resumeSection({ jarvisUrl, jarvisPid, t }: Setup): Promise<void> {
  const cost = await storeCost(jarvisUrl, jarvisPid, t.jarvisNdjson!, N.tokens, N.storeRuns);
  const re = await reattach(jarvisUrl, N.reattach);
  results.resume = { storeCost: cost, reattach: re };
  say(`\n## Conversations: storing answers, and reattaching\n`);
  say(table(['path', 'tokens/s', 'Jarvis CPU ms per 1,000 tokens'], [
    ['/v1/chat/completions (not stored)', fmt(cost.chatTokensPerSecond, 0), fmt(cost.chatCpuMsPer1k, 2)],
    ['/v1/conversations/{id}/messages (log reader, stored as it grows)', fmt(cost.conversationTokensPerSecond, 0), fmt(cost.conversationCpuMsPer1k, 2)],
  ]));
  say(`\nOne stream of ${cost.tokens} tokens, upstream unthrottled, median of ${cost.runs}: ${fmt(cost.cost * 100, 1)} % less throughput when stored.`);
  say(`Jarvis's own CPU time per 1,000 tokens (all rounds, from /proc; steadier than wall-clock rates on a shared machine): ${fmt(cost.chatCpuMsPer1k, 2)} ms not stored, ${fmt(cost.conversationCpuMsPer1k, 2)} ms stored: storing costs ${fmt(cost.cpuCost * 100, 1)} % more CPU.`);
  say(`\nReattach → first resumed token (${re.reattaches} drops and reattaches, answer at 200 tokens/s): p50 ${fmt(re.p50Ms, 2)} ms, p99 ${fmt(re.p99Ms, 2)} ms; every reattach resumed at exactly last seq + 1: ${re.exact ? 'yes' : 'NO'}.`);
}

async function main(): Promise<void> {
  const started = performance.now();
  const up = await startUpstreams();
  const jarvis = await startJarvis({ JARVIS_BACKEND: 'ollama', OLLAMA_HOST: up.ollama });
  const gateway = await startGateway(up.openai);
  const setup: Setup = { up, jarvisUrl: jarvis.url, jarvisPid: jarvis.proc.pid!, t: targets(up, jarvis.url, gateway.url) };
  say(`# Jarvis benchmark${quick ? ' (quick)' : ''}\n\n${JSON.stringify(results.machine)}\n`);
  try {
    if (wanted('throughput')) await throughputSection(setup);
    const tt = wanted('ttft') || wanted('supersede') ? await ttftSection(setup) : [];
    if (wanted('supersede')) await supersedeSection(setup, tt);
    if (wanted('stop')) await stopSection(setup);
    if (wanted('resume')) await resumeSection(setup);
    await jarvis.stop();
    if (wanted('scale')) await scaleSection(setup);
    if (wanted('burst')) await burstSection(setup);
  } finally {
    await Promise.all([jarvis.stop(), gateway.stop(), up.child.stop()]);
  }
  results.durationSeconds = Math.round((performance.now() - started) / 1000);
  say(`\n(${results.durationSeconds} s)`);
  if (only) return;
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, quick ? 'quick.json' : 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(dir, quick ? 'quick.md' : 'latest.md'), out.join('\n') + '\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
