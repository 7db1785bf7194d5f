import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fmt, fmtSpread, machine, table } from './lib/report.js';
import { chartsMarkdown, type BenchResults } from './lib/plots/figures.js';
import { root } from './lib/processes.js';
import { caps, ensureBuilt, jarvisOllama, jarvisOpenai, startBareProxy, startJarvis, startPortkey, startUpstreams, targets, type Server, type Targets, type Upstreams } from './lib/setup.js';
import type { Spread } from './lib/stats.js';
import type { Target } from './lib/client.js';
import { burst, type BurstRow } from './sections/burst.js';
import { capacity, capacityCounts } from './sections/capacity/section.js';
import { capacityReport } from './sections/capacity/report.js';
import { cluster } from './sections/cluster.js';
import { engine, type EngineResult } from './sections/engine.js';
import { engineTables } from './sections/engineReport.js';
import { loadNodeLlamaCpp, startDirect } from './lib/directEngine.js';
import { reattach, storeCost } from './sections/resume.js';
import { routingReport } from './sections/routing/report.js';
import { routing, type RoutingCounts } from './sections/routing/section.js';
import { scale, type ScaleRow, type ScaleSubject } from './sections/scale.js';
import { stop, type StopRow } from './sections/stop.js';
import { supersede } from './sections/supersede.js';
import { throughput, type ThroughputRow } from './sections/throughput.js';
import { ttft, type TtftRow } from './sections/ttft.js';
import { tracingSection } from './sections/tracing.js';

// `npm run bench` (a few minutes) / `npm run bench -- --quick` (under a minute, CI's smoke run):
// Jarvis measured side by side with direct access to the same upstream and with
// Portkey's open-source gateway, all in the same run. Every figure is taken in
// several rounds and shown as its median (min–max over the rounds).

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, scale: { type: 'string' } } });
const quick = values.quick ?? false;
// `--only throughput,ttft` runs some sections (for working on one figure).
const only = values.only?.split(',');
const wanted = (section: string) => !only || only.includes(section);
const N = quick
  ? { engine: { warm: 1, rounds: 1, perRound: 3, tokens: 50, stopRounds: 1, stops: 5, healthMs: 500 }, cluster: { supersedeRounds: 1, supersede: 5, stopRounds: 1, stop: 3, streams: 5, tokens: 100 }, tokens: 5000, rounds: 3, ttft: 10, supersedeRounds: 1, supersede: 10, ignore: 3, stop: 5, portkeyStops: 2, paced: 0, reattach: 30, storeRuns: 1, measureMs: 500, slowMs: 200, burst: 100, scale: { demo: [300], upstream: [] as number[], portkey: [] as number[] } }
  : { engine: { warm: 3, rounds: 5, perRound: 20, tokens: 200, stopRounds: 5, stops: 40, healthMs: 10_000 }, cluster: { supersedeRounds: 5, supersede: 40, stopRounds: 5, stop: 40, streams: 50, tokens: 200 }, tokens: 50_000, rounds: 5, ttft: 40, supersedeRounds: 5, supersede: 40, ignore: 25, stop: 40, portkeyStops: 5, paced: 100, reattach: 200, storeRuns: 7, measureMs: 3000, slowMs: 1000, burst: 3000, scale: { demo: [1000, 10_000], upstream: [1000, 9000], portkey: [1000, 9000] } };
// Scale's slow streams send a token every `slowMs` (quick mode: faster, so that opening them takes less
// time), 600 of them: a stream must outlive the opening of all the others, even on a loaded machine.
// `--scale demo:10000` (with `--only scale`): one subject (demo, upstream or portkey) at the levels given, for working on memory.
if (values.scale) {
  const [subject, levels] = values.scale.split(':') as [keyof typeof N.scale, string | undefined];
  if (!(subject in N.scale)) throw new Error(`--scale: one of ${Object.keys(N.scale).join(', ')}`);
  N.scale = { demo: [], upstream: [], portkey: [], [subject]: levels ? levels.split('+').map(Number) : N.scale[subject] };
}
// The routing section (docs/benchmark.md "Routing"): quick runs keep one small point of each part, and leave the embedded engine's out.
const ROUTING: RoutingCounts = quick
  ? { ttftRounds: 1, ttftPerRound: 10, failoverRounds: 1, probeKills: false, queue: { rounds: 1, perServer: 1, heavy: 8, light: 2, tokens: 20, tokenMs: 10 }, affinity: undefined }
  : { ttftRounds: 5, ttftPerRound: 40, failoverRounds: 5, probeKills: true, queue: { rounds: 5, perServer: 2, heavy: 48, light: 6, tokens: 20, tokenMs: 10 }, affinity: { rounds: 5, turns: 12, wordsPerTurn: 93 } };
const slowPrompt = `n=600 ms=${N.slowMs}`;
// The demo's reply is about 70 tokens: at one every 2 s (full run) it outlives the opening too.
const demoTokenMs = String(quick ? N.slowMs : N.slowMs * 2);

const out: string[] = [];
const say = (s: string) => {
  out.push(s);
  console.log(s);
};
const results: Record<string, unknown> = { machine: machine(), quick };
/** The issue's targets, checked against this run. */
const checks: Array<[string, string, string, boolean | undefined]> = [];
const check = (figure: string, target: string, value: string, met: boolean | undefined) => checks.push([figure, target, value, met]);
interface Setup {
  up: Upstreams;
  jarvis: Server;
  t: Targets;
}
const baselineCell = 'baseline';

async function throughputSection({ t }: Setup): Promise<void> {
  const paths = withFloor([t.directOllama, t.bareOllama, t.jarvisNdjson, t.jarvisSse, t.directOpenai, t.bareOpenai, t.jarvisOpenai, t.portkey], t);
  const tp = await throughput(paths, N.tokens, N.rounds);
  results.throughput = { unthrottled: tp };
  say(`## Throughput: one stream of ${N.tokens} tokens, upstream unthrottled (${N.rounds} rounds)\n`);
  say(table(['path', 'tokens/s', '× its direct path (per round)'], tp.map((r) => [r.target, fmtSpread(r.tokensPerSecond, 0), r.ratioToBaseline ? fmtSpread(r.ratioToBaseline, 3) : baselineCell])));
  if (!quick) say(FLOOR_NOTE);
  const ratio = (name: string) => tp.find((r) => r.target === name)?.ratioToBaseline;
  // Full runs judge each Jarvis path against the floor to the same upstream (docs/benchmark.md "Capacity"); quick runs have no floor.
  for (const [path, floor] of [[t.jarvisNdjson, t.bareOllama], [t.jarvisSse, t.bareOllama], [t.jarvisOpenai, t.bareOpenai]] as const) {
    const [r, f] = [ratio(path.name), quick ? undefined : ratio(floor.name)];
    if (r && f) check(`throughput ${path.name}`, "≥ 0.95× the floor's", fmt(r.median / f.median, 3), r.median / f.median >= 0.95);
    else if (r && path !== t.jarvisOpenai) check(`throughput ${path.name}`, '≥ 0.95× direct', fmtSpread(r, 3), r.median >= 0.95);
  }
  if (N.paced > 0) {
    const paced = await throughput([t.directOllama, t.jarvisNdjson, t.jarvisSse, t.portkey], N.paced, 1, 20);
    results.throughput = { unthrottled: tp, paced50PerSecond: paced };
    say(`\nAt a realistic 50 tokens/s (${N.paced} tokens): ${paced.map((r: ThroughputRow) => `${r.target} ${fmt(r.tokensPerSecond.median)}`).join(', ')} tokens/s.\n`);
  }
}

/** The floor's paths are measured in full runs only: quick mode (CI's smoke run) is kept short. */
function withFloor(paths: Target[], t: Targets): Target[] {
  return quick ? paths.filter((p) => p !== t.bareOllama && p !== t.bareOpenai) : paths;
}

const FLOOR_NOTE =
  '\n(The bare Node proxy is the floor: bench/peers/bareProxy.mjs pipes bytes and does nothing else. What it loses against direct access is what a second process on the path costs on this machine; the rest of a Jarvis path\'s gap is Jarvis\'s own work.)';

async function ttftSection({ t }: Setup): Promise<TtftRow[]> {
  const paths = withFloor([t.directOllama, t.bareOllama, t.jarvisNdjson, t.jarvisSse, t.directOpenai, t.bareOpenai, t.jarvisOpenai, t.portkey], t);
  const tt = await ttft(paths, N.rounds, N.ttft);
  results.ttft = tt;
  say(`\n## Time to first token (3-token replies, one request at a time: ${N.rounds} rounds of ${N.ttft} per path, interleaved)\n`);
  const added = (s: Spread | undefined) => (s ? fmtSpread(s, 2) : baselineCell);
  say(
    table(
      ['path', 'p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms', "Jarvis's own (Server-Timing) p50 ms"],
      tt.map((r) => [r.target, fmtSpread(r.p50Ms, 2), fmtSpread(r.p99Ms, 2), added(r.addedP50Ms), added(r.addedP99Ms), r.ownP50Ms ? fmtSpread(r.ownP50Ms, 2) : '']),
    ),
  );
  say(
    "\n(Added: per round, the path's p50 less its direct path's p50 in the same round; it includes the extra hop through another process, so on a loaded machine it is mostly the scheduler's. Jarvis's own: what it reports on each reply, request received → upstream request plus upstream's first token read → forwarded. Portkey holds every streamed reply's first chunk for 25 ms by design: `readStream` in its src/handlers/streamHandler.ts sleeps before the first chunk; see bench/NOTES.md.)",
  );
  const row = (name: string) => tt.find((r) => r.target === name);
  const overFloor = (path: Target, floor: Target) => {
    const [a, b] = [row(path.name), row(floor.name)];
    return a && b ? `${path.name} ${fmt(a.p50Ms.median - b.p50Ms.median, 2)} ms` : undefined;
  };
  const beyond = [overFloor(t.jarvisNdjson, t.bareOllama), overFloor(t.jarvisSse, t.bareOllama), overFloor(t.jarvisOpenai, t.bareOpenai)].filter(Boolean);
  if (beyond.length > 0) say(`\nOver the floor (p50, less the bare Node proxy's to the same upstream): ${beyond.join(', ')}.`);
  const portkey = row(t.portkey.name)?.addedP50Ms;
  for (const [path, floor] of [[t.jarvisNdjson, t.bareOllama], [t.jarvisSse, t.bareOllama], [t.jarvisOpenai, t.bareOpenai]] as const) {
    const [a, f] = [row(path.name)?.p50Ms, row(floor.name)?.p50Ms];
    if (a && f) check(`TTFT p50 over the floor, ${path.name}`, '≤ 0.3 ms', fmt(a.median - f.median, 2), a.median - f.median <= 0.3);
    else if (row(path.name)?.addedP50Ms) check(`added TTFT p50 ${path.name}`, `< Portkey's (${portkey ? fmt(portkey.median, 2) : 'n/a'})`, fmtSpread(row(path.name)!.addedP50Ms!, 2), !portkey || row(path.name)!.addedP50Ms!.median < portkey.median);
  }
  return tt;
}

async function supersedeSection({ up, t }: Setup, tt: TtftRow[]): Promise<void> {
  const cooperative = await supersede(t.jarvisNdjson, up.control, N.supersedeRounds, N.supersede, 'cooperative (closes on FIN)');
  const ignoring = await startJarvis({ JARVIS_BACKEND: 'ollama', OLLAMA_HOST: up.ollama, JARVIS_CANCEL_TIMEOUT_MS: '250' });
  try {
    const target = targets(up, ignoring.url, '', '').jarvisNdjson;
    const ignored = await supersede(target, up.control, quick ? 1 : 4, N.ignore, 'ignores aborts (JARVIS_CANCEL_TIMEOUT_MS=250)', true);
    results.supersede = [cooperative, ignored];
    say(`\n## Supersede (Jarvis): A streaming at 50 tokens/s, then B on the same session\n`);
    say(
      table(['upstream', 'supersedes', "B's request → A's upstream closed p50 / p99 ms", "B's request → B's first token p50 / p99 ms"], [cooperative, ignored].map((r) => [r.upstream, r.supersedes, `${fmtSpread(r.closeP50Ms, 2)} / ${fmtSpread(r.closeP99Ms, 2)}`, `${fmtSpread(r.firstTokenP50Ms, 2)} / ${fmtSpread(r.firstTokenP99Ms, 2)}`])),
    );
    noteLeftOut([cooperative, ignored]);
    const direct = tt.find((r) => r.target === t.directOllama.name);
    if (direct) say(`\nThe upstream's own time to first token (direct, p50 / p99): ${fmtSpread(direct.p50Ms, 2)} / ${fmtSpread(direct.p99Ms, 2)} ms.`);
  } finally {
    await ignoring.stop();
  }
}

async function stopSection({ up, jarvis, t }: Setup): Promise<void> {
  const rows: StopRow[] = [
    await stop(t.jarvisNdjson, up.control, 'stop endpoint', N.rounds, N.stop, { stopUrl: jarvis.url }),
    await stop(t.jarvisNdjson, up.control, 'client disconnect', N.rounds, N.stop),
    // The floor, in full runs only (see withFloor).
    ...(quick ? [] : [await stop(t.bareOllama, up.control, 'client disconnect', N.rounds, N.stop)]),
    // Portkey has no stop endpoint. It does not close its upstream request when the client goes,
    // so each reply here is short (50 tokens, 1 s; quick: 20) and the stops run at once.
    await stop(t.portkey, up.control, 'client disconnect', 1, N.portkeyStops, { tokens: quick ? 20 : 50, parallel: true }),
  ];
  results.stop = rows;
  say(`\n## Stop → upstream request closed\n`);
  say(table(['path', 'how', 'stops', 'p50 ms', 'p99 ms', 'upstream ran to the end instead'], rows.map((r) => [r.path, r.how, r.stops, fmtSpread(r.p50Ms, 2), fmtSpread(r.p99Ms, 2), r.ranToEnd])));
  noteLeftOut(rows);
  for (const r of rows.slice(0, 2)) check(`stop → upstream closed p99, ${r.how}`, '< 5 ms', fmtSpread(r.p99Ms, 2), r.p99Ms.median < 5);
}

/** Says how many attempts a table leaves out (a stream that ended before its first token is never waited on). */
function noteLeftOut(rows: Array<{ failed: number }>): void {
  const n = rows.reduce((sum, r) => sum + r.failed, 0);
  if (n > 0) say(`\n(${n} attempt${n === 1 ? '' : 's'} left out of the counts above: the stream ended before its first token, its upstream never answered; named on stderr.)`);
}

/** Three instances on a real redis-server beside one process without Redis (docs/clusters.md). */
async function clusterSection({ up, jarvis }: Setup): Promise<void> {
  const r = await cluster(up, jarvis, N.cluster);
  results.cluster = r;
  say(`\n## Cluster: three instances on one redis-server, beside one process without Redis\n`);
  say(
    table(
      ['supersede', 'supersedes', "B's request → A's upstream closed p50 / p99 ms", "B's request → B's first token p50 / p99 ms"],
      r.supersede.map((x) => [x.upstream, x.supersedes, `${fmtSpread(x.closeP50Ms, 2)} / ${fmtSpread(x.closeP99Ms, 2)}`, `${fmtSpread(x.firstTokenP50Ms, 2)} / ${fmtSpread(x.firstTokenP99Ms, 2)}`]),
    ),
  );
  say('');
  say(table(['Stop → upstream request closed', 'stops', 'p50 ms', 'p99 ms'], r.stop.map((x) => [x.path, x.stops, fmtSpread(x.p50Ms, 2), fmtSpread(x.p99Ms, 2)])));
  noteLeftOut([...r.supersede, ...r.stop]);
  const top = r.redis.byCommand
    .slice(0, 6)
    .map((c) => `${c.command} ${fmt(c.perStream, 1)}`)
    .join(', ');
  say(
    `\nRedis commands per stream: ${fmt(r.redis.commandsPerStream, 1)} (${r.redis.streams} streams of ${r.redis.tokensPerStream} tokens at 200 tokens/s, 10 at a time, \`INFO commandstats\` before and after, renewals included; a script's EVALSHA and each command it runs count each): ${top}.`,
  );
  const [one, , across] = r.supersede;
  if (one && across) {
    const added = across.firstTokenP99Ms.median - one.firstTokenP99Ms.median;
    check("cross-instance supersede → B's first token, p99 added to one process's", '< 5 ms', fmt(added, 2), added < 5);
  }
  const [stopOne, , stopAcross] = r.stop;
  if (stopOne && stopAcross) {
    const added = stopAcross.p99Ms.median - stopOne.p99Ms.median;
    check('Stop via another instance → upstream closed, p99 added to one process’s', '< 5 ms', fmt(added, 2), added < 5);
  }
}

async function resumeSection({ jarvis, t }: Setup): Promise<void> {
  const cost = await storeCost(jarvis.url, jarvis.proc.pid!, t.jarvisNdjson, N.tokens, N.storeRuns);
  const re = await reattach(jarvis.url, N.reattach);
  results.resume = { storeCost: cost, reattach: re };
  say(`\n## Conversations: storing answers, and reattaching\n`);
  say(
    table(
      ['path', 'tokens/s', 'Jarvis CPU ms per 1,000 tokens'],
      [
        ['/v1/chat/completions (not stored)', fmt(cost.chatTokensPerSecond, 0), fmt(cost.chatCpuMsPer1k, 2)],
        ['/v1/conversations/{id}/messages (log reader, stored as it grows)', fmt(cost.conversationTokensPerSecond, 0), fmt(cost.conversationCpuMsPer1k, 2)],
      ],
    ),
  );
  say(`\nOne stream of ${cost.tokens} tokens, upstream unthrottled, median of ${cost.runs}: ${fmt(cost.cost * 100, 1)} % less throughput when stored.`);
  say(`Jarvis's own CPU time per 1,000 tokens (all rounds, from /proc; steadier than wall-clock rates on a shared machine): ${fmt(cost.chatCpuMsPer1k, 2)} ms not stored, ${fmt(cost.conversationCpuMsPer1k, 2)} ms stored: storing costs ${fmt(cost.cpuCost * 100, 1)} % more CPU.`);
  say(`\nReattach → first resumed token (${re.reattaches} drops and reattaches, answer at 200 tokens/s): p50 ${fmt(re.p50Ms, 2)} ms, p99 ${fmt(re.p99Ms, 2)} ms; every reattach resumed at exactly last seq + 1: ${re.exact ? 'yes' : 'NO'}.`);
}

/** Each level on fresh processes: Jarvis on the demo backend (no upstream socket), Jarvis and Portkey through a fake upstream. */
async function scaleSection({ up }: Setup): Promise<void> {
  const rows: ScaleRow[] = [];
  const jarvisSubject = (path: string, server: Server, prompt: string): ScaleSubject => ({
    path,
    server,
    prompt,
    target: { ...targets(up, server.url, '', '').jarvisNdjson, body: (p) => ({ messages: [{ role: 'user', content: p }] }) },
    healthUrl: `${server.url}/health`,
    activeStreams: async () => ((await (await fetch(`${server.url}/health`)).json()) as { active_streams: number }).active_streams,
  });
  const levels: Array<[number, () => Promise<Server>, (s: Server) => ScaleSubject]> = [
    ...N.scale.demo.map((n): [number, () => Promise<Server>, (s: Server) => ScaleSubject] => [n, () => startJarvis({ JARVIS_BACKEND: 'demo', JARVIS_DEMO_TOKEN_MS: demoTokenMs, ...caps(n) }), (s) => jarvisSubject('Jarvis (demo backend)', s, 'scale')]),
    ...N.scale.upstream.map((n): [number, () => Promise<Server>, (s: Server) => ScaleSubject] => [n, () => jarvisOllama(up, caps(n)), (s) => jarvisSubject('Jarvis (fake Ollama)', s, slowPrompt)]),
    ...N.scale.upstream.map((n): [number, () => Promise<Server>, (s: Server) => ScaleSubject] => [
      n,
      () => jarvisOpenai(up, caps(n)),
      (s) => ({ ...jarvisSubject('Jarvis (fake OpenAI-compatible)', s, slowPrompt), target: { ...targets(up, '', s.url, '').jarvisOpenai } }),
    ]),
    ...N.scale.portkey.map((n): [number, () => Promise<Server>, (s: Server) => ScaleSubject] => [
      n,
      startPortkey,
      (s) => ({ path: 'Portkey (fake OpenAI-compatible)', server: s, prompt: slowPrompt, target: targets(up, '', '', s.url).portkey, healthUrl: `${s.url}/` }),
    ]),
  ];
  for (const [n, start, subject] of levels) {
    const server = await start();
    try {
      rows.push(await scale(subject(server), n, N.measureMs));
    } finally {
      await server.stop();
    }
  }
  results.scale = rows;
  say(`\n## Scale: concurrent slow streams (a token every ${N.slowMs} ms; the demo's every ${demoTokenMs} ms), each its own session\n`);
  say(
    table(
      ['path', 'streams', 'RSS per stream KB', 'JS heap per stream KB', 'event-loop delay p99 ms', 'health p99 / max ms', 'errors', 'opened in s'],
      rows.map((r) => [r.path, r.streams, fmt(r.rssPerStreamKB), fmt(r.heapPerStreamKB), fmt(r.eventLoopP99Ms, 2), `${fmt(r.healthP99Ms, 2)} / ${fmt(r.healthMaxMs, 2)}`, r.errors, fmt(r.openSeconds)]),
    ),
  );
  say(
    '\n(Memory per stream: the slope of live memory, measured after a full GC, over 0, ¼, ½, ¾ and all the streams open. Health: `/health` for Jarvis, `GET /` for Portkey. Through an upstream the largest level is 9,000: each stream holds two sockets in the gateway, and a process may hold 20,000 descriptors here.)',
  );
  const big = rows.find((r) => r.path === 'Jarvis (demo backend)' && r.streams === 10_000);
  if (big) check('RSS per idle stream at 10,000 streams, demo', '≤ 14 KB', fmt(big.rssPerStreamKB), big.rssPerStreamKB <= 14);
  for (const r of rows.filter((x) => x.path.startsWith('Jarvis (') && x.path !== big?.path && x.streams >= 9000)) check(`RSS per idle stream at ${r.streams}, ${r.path}`, '≤ 20 KB, /health p99 < 100 ms', `${fmt(r.rssPerStreamKB)} KB, ${fmt(r.healthP99Ms, 0)} ms`, r.rssPerStreamKB <= 20 && r.healthP99Ms < 100);
}

/** Paced streams per path until answers stutter (docs/benchmark.md "Capacity"): each path on fresh processes. */
async function capacitySection(up: Upstreams): Promise<void> {
  const r = await capacity(up, capacityCounts(quick));
  results.capacity = r;
  say(capacityReport(r));
  const floor = r.rows.find((x) => x.short === 'floor');
  for (const x of r.rows.filter((x) => x.short !== 'direct' && x.short !== 'floor' && x.short !== 'portkey' && floor)) {
    check(`capacity ${x.path}`, `≥ 0.8× the floor's (${floor!.capacity})`, String(x.capacity), x.capacity >= 0.8 * floor!.capacity);
  }
}

/** One client opening N slow streams at once through the fake Ollama: /health while they open. */
async function burstSection({ up }: Setup): Promise<void> {
  const j = await jarvisOllama(up, { JARVIS_MAX_STREAMS_PER_CLIENT: String(N.burst) });
  let row: BurstRow;
  try {
    row = await burst(j.url, 'ollama (fake)', N.burst, { model: 'fake-llama:latest', messages: [{ role: 'user', content: slowPrompt }] }, N.measureMs);
  } finally {
    await j.stop();
  }
  results.burst = row;
  say(`\n## One client opens ${N.burst} slow streams at once: /health while they open\n`);
  say(
    table(
      ['backend', 'streams', 'probes', '/health before: p50 / p99 ms', '/health p50 ms', '/health p99 ms', '/health max ms', 'errors', 'all open in s'],
      [[row.backend, row.streams, row.probes, `${fmt(row.idleP50Ms, 2)} / ${fmt(row.idleP99Ms, 2)}`, fmt(row.healthP50Ms, 2), fmt(row.healthP99Ms, 2), fmt(row.healthMaxMs, 2), row.errors, fmt(row.openSeconds)]],
    ),
  );
  say(`\n(/health before: the same probe for ${N.measureMs} ms before the burst, the machine's own latency in this run.)`);
  check(`/health p99 while one client opens ${N.burst.toLocaleString('en')} streams at once`, '< 100 ms', fmt(row.healthP99Ms, 2), quick ? undefined : row.healthP99Ms < 100);
}

/** The tiny test GGUF (test/fixtures/models/README.md): the same file for both sides. */
const ENGINE_MODEL = join(root, 'test', 'fixtures', 'models', 'llama-2-tiny-random.gguf');

/** The embedded engine against node-llama-cpp in this process (docs/benchmark.md, "Engine"). */
async function engineSection(): Promise<void> {
  say(`\n## Engine: the embedded backend against node-llama-cpp directly (tiny GGUF, threads 1)\n`);
  const lib = await loadNodeLlamaCpp();
  if (!lib) {
    say('Left out: node-llama-cpp is not installed (`npm install --no-save node-llama-cpp@3.21.1`).');
    return;
  }
  const model = 'llama-2-tiny-random';
  const sampling = { maxTokens: N.engine.tokens, temperature: 0.8, seed: 42 };
  const t = performance.now();
  const [direct, jarvis] = await Promise.all([
    startDirect(lib, ENGINE_MODEL, { threads: 1, sequences: 2, contextTokens: 4096 }),
    startJarvis({ JARVIS_BACKEND: 'embedded', JARVIS_MODELS_DIR: dirname(ENGINE_MODEL), JARVIS_MODEL: model, JARVIS_EMBEDDED_THREADS: '1', JARVIS_EMBEDDED_PARALLEL: '2', JARVIS_EMBEDDED_CONTEXT: '4096' }),
  ]);
  console.error(`(engine, node-llama-cpp and Jarvis started: ${((performance.now() - t) / 1000).toFixed(1)} s)`);
  let r: EngineResult;
  try {
    r = await engine(jarvis, model, direct, { ...N.engine, sampling, stopsPerRound: N.engine.stops });
  } finally {
    const stopping = performance.now();
    await Promise.all([jarvis.stop(), direct.dispose()]);
    console.error(`(engine, stopped: ${((performance.now() - stopping) / 1000).toFixed(1)} s)`);
  }
  results.engine = r;
  say(engineTables(r, N.engine, sampling));
  check('/health p99 while two embedded streams generate', '< 50 ms', fmt(r.health.p99Ms, 2), quick ? undefined : r.health.p99Ms < 50);
}

/** Several model servers behind one Jarvis (docs/upstreams.md): what routing adds, failover, the fair queue, affinity on the engine. */
async function routingSection(): Promise<void> {
  const engineModel = ROUTING.affinity && (await loadNodeLlamaCpp()) ? ENGINE_MODEL : undefined;
  const r = (results.routing = await routing(ROUTING, engineModel));
  say(routingReport(r));
  check('routing: queue grants in start-time fair order', 'all', `${r.queue.fairGrants} of ${r.queue.grants}`, r.queue.fairGrants === r.queue.grants);
  check('routing: most streams on one server at once', `≤ max_parallel (${r.queueCounts.perServer})`, String(r.queue.maxAtOnce), r.queue.maxAtOnce <= r.queueCounts.perServer);
}

async function main(): Promise<void> {
  const started = performance.now();
  ensureBuilt();
  const up = await startUpstreams();
  const [jarvis, jarvisOa, portkey, bare] = await Promise.all([jarvisOllama(up), jarvisOpenai(up), startPortkey(), startBareProxy()]);
  const setup: Setup = { up, jarvis, t: targets(up, jarvis.url, jarvisOa.url, portkey.url, bare.url) };
  say(`# Jarvis benchmark${quick ? ' (quick)' : ''}\n\n${JSON.stringify(results.machine)}\n`);
  const timed = async <T>(name: string, section: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const result = await section();
    console.error(`(${name}: ${((performance.now() - t) / 1000).toFixed(1)} s)`);
    return result;
  };
  console.error(`(start-up: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  try {
    if (wanted('throughput')) await timed('throughput', () => throughputSection(setup));
    const tt = wanted('ttft') || wanted('supersede') ? await timed('ttft', () => ttftSection(setup)) : [];
    if (wanted('supersede')) await timed('supersede', () => supersedeSection(setup, tt));
    if (wanted('stop')) await timed('stop', () => stopSection(setup));
    if (wanted('resume')) await timed('resume', () => resumeSection(setup));
    // Quick runs (CI's smoke run, kept short) leave the cluster out unless it is named: `--quick --only cluster`.
    if (wanted('cluster') && (!quick || only)) await timed('cluster', () => clusterSection(setup));
    if (wanted('tracing') && (!quick || only)) results.tracing = await timed('tracing', () => tracingSection(up, setup.t.jarvisNdjson, N, say));
    await Promise.all([jarvis.stop(), jarvisOa.stop(), portkey.stop(), bare.stop()]);
    if (wanted('capacity')) await timed('capacity', () => capacitySection(up));
    if (wanted('engine')) await timed('engine', engineSection);
    if (wanted('routing')) await timed('routing', routingSection);
    if (wanted('scale')) await timed('scale', () => scaleSection(setup));
    if (wanted('burst')) await timed('burst', () => burstSection(setup));
  } finally {
    await Promise.all([jarvis.stop(), jarvisOa.stop(), portkey.stop(), bare.stop(), up.child.stop()]);
  }
  results.checks = checks.map(([figure, target, value, met]) => ({ figure, target, value, met }));
  if (checks.length > 0) {
    say(`\n## The issue's targets, in this run\n`);
    say(table(['figure', 'target', 'this run', 'met'], checks.map(([f, t, v, met]) => [f, t, v, met === undefined ? '?' : met ? 'yes' : '**no**'])));
  }
  results.durationSeconds = Math.round((performance.now() - started) / 1000);
  say(`\n(${results.durationSeconds} s)`);
  // Quick and partial runs go to an ignored directory: CI's run leaves the work tree clean.
  const dir = quick || only ? join(root, 'bench', 'results', 'local') : join(root, 'bench', 'results');
  const name = quick ? 'quick' : only ? 'only' : 'latest';
  mkdirSync(dir, { recursive: true });
  out.push(...chartsMarkdown(results as BenchResults, dir, name));
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(dir, `${name}.md`), out.join('\n') + '\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
