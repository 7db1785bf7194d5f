import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseLine } from '../src/log/format.js';
import { reportHostile, runHostilePhase } from './lib/hostile.js';
import { IMAGE_HOST } from './lib/imageServer.js';
import { rssBytes } from './lib/processes.js';
import { MODEL, startJarvis, startUpstreams } from './lib/setup.js';
import { percentile } from './lib/stats.js';

// `npm run soak -- --minutes N`: a random schedule of prompts, supersedes, stops, client
// disconnects and upstream faults (resets, garbage, in-stream errors, 500s, hangs, aborts
// ignored) against the built Jarvis in its own process and the fake Ollama in another,
// while /health is probed. At the end: stream_start/stream_end from the log (must match,
// one end per start), terminal events by kind, Jarvis's RSS, /health latency.
// Then the hostile-key phase (bench/lib/hostile.ts): key B streams while key A does
// what one key can do to hurt the others; key B's added inter-token gap and /health p99.

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '2' },
    sessions: { type: 'string', default: '24' },
    seed: { type: 'string' },
    // The hostile-key phase (0 seconds: none).
    'hostile-seconds': { type: 'string', default: '60' },
    'quiet-seconds': { type: 'string', default: '15' },
    intensity: { type: 'string', default: '2' },
    followers: { type: 'string', default: '16' },
    readers: { type: 'string', default: '16' },
    images: { type: 'string', default: '16' },
    'fill-mb': { type: 'string', default: '20' },
    'system-kb': { type: 'string', default: '512' },
  },
});
const durationMs = Number(values.minutes) * 60_000;
const sessions = Number(values.sessions);
let seed = Number(values.seed ?? Date.now() % 1_000_000);
const initialSeed = seed;
// A small seeded generator (mulberry32): a run can be repeated with --seed.
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Three keys: the random schedule's, and the hostile phase's A (hostile) and B (normal).
const KEYS = { soak: 'soak-key-0123456789abcdef', a: 'hostile-key-a-0123456789abcdef', b: 'normal-key-b-0123456789abcdef' };
const AUTH = { authorization: `Bearer ${KEYS.soak}` };

const FAULTS = ['fault=fail_mid', 'fault=garbage', 'fault=error_line', 'fault=http_500', 'fault=hang_after_headers', 'fault=hang_before_headers', 'ignore'] as const;

const outcomes = new Map<string, number>();
const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
const actions = new Map<string, number>();
const act = (key: string) => actions.set(key, (actions.get(key) ?? 0) + 1);

/** One NDJSON chat; resolves with its terminal event's kind (or how it ended without one). */
async function chat(url: string, session: string, prompt: string, signal: AbortSignal): Promise<void> {
  let text = '';
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json', accept: 'application/x-ndjson', 'x-session-id': session },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: prompt }] }),
      signal,
    });
    if (res.status !== 200) {
      count(`http_${res.status}`);
      await res.body?.cancel();
      return;
    }
    const decoder = new TextDecoder();
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      // Only the last lines matter: keep the tail.
      if (text.length > 8192) text = text.slice(-4096);
    }
    const last = text.trimEnd().split('\n').at(-1) ?? '';
    const event = JSON.parse(last) as { type: string; reason?: string; code?: string };
    count(event.type === 'done' ? 'done' : event.type === 'cancelled' ? `cancelled:${event.reason}` : event.type === 'error' ? `error:${event.code}` : `no_terminal`);
  } catch (err) {
    count(signal.aborted ? 'client_disconnected' : `client_failure:${(err as Error).name}`);
  }
}

async function sessionLoop(url: string, session: string, until: number, inflight: Set<Promise<void>>): Promise<void> {
  let n = 0;
  while (performance.now() < until) {
    const roll = random();
    if (roll < 0.1) {
      act('stop');
      await fetch(`${url}/v1/sessions/${session}/stop`, { method: 'POST', headers: AUTH }).then((r) => r.body?.cancel());
    } else {
      const fault = roll < 0.3 ? pick(FAULTS) : '';
      const prompt = `${session}.${n++} n=${between(5, 150)} ms=${between(1, 15)} first=${between(0, 50)} after=${between(0, 5)} ${fault}`;
      const controller = new AbortController();
      act(fault ? `prompt ${fault}` : 'prompt');
      const call = chat(url, session, prompt, controller.signal);
      inflight.add(call);
      void call.finally(() => inflight.delete(call));
      if (random() < 0.15) {
        act('disconnect');
        setTimeout(() => controller.abort(), between(0, 300));
      }
      // Usually the next prompt comes before this one ends: a supersede.
      if (random() < 0.3) await call;
    }
    await sleep(between(0, 250));
  }
}

async function main(): Promise<void> {
  const up = await startUpstreams();
  const jarvis = await startJarvis({
    JARVIS_BACKEND: 'ollama',
    OLLAMA_HOST: up.ollama,
    JARVIS_CANCEL_TIMEOUT_MS: '500',
    JARVIS_IMAGE_FETCH_ALLOW: IMAGE_HOST,
    JARVIS_FIRST_TOKEN_TIMEOUT_MS: '3000',
    JARVIS_API_KEYS: Object.entries(KEYS).map(([name, key]) => `${name}:${key}`).join(','),
  });
  const pid = jarvis.proc.pid!;
  console.log(`soak: ${values.minutes} min, ${sessions} sessions, seed ${initialSeed}, Jarvis ${jarvis.url} (pid ${pid})`);

  const rss: number[] = [rssBytes(pid)];
  const rssTimer = setInterval(() => rss.push(rssBytes(pid)), 1000);
  const healthMs: number[] = [];
  let healthFailures = 0;
  const until = performance.now() + durationMs;
  const prober = (async () => {
    while (performance.now() < until) {
      const t = performance.now();
      try {
        const res = await fetch(`${jarvis.url}/health`, { signal: AbortSignal.timeout(5000) });
        await res.json();
        healthMs.push(performance.now() - t);
      } catch {
        healthFailures++;
      }
      await sleep(50);
    }
  })();
  const progress = setInterval(() => {
    const done = [...outcomes.values()].reduce((a, b) => a + b, 0);
    console.log(`  ${Math.round((durationMs - (until - performance.now())) / 1000)} s: ${done} streams ended, RSS ${(rss.at(-1)! / 2 ** 20).toFixed(0)} MB`);
  }, 30_000);

  const inflight = new Set<Promise<void>>();
  await Promise.all(Array.from({ length: sessions }, (_, i) => sessionLoop(jarvis.url, `soak-${i}`, until, inflight)));
  await prober;
  // Hung upstreams end at the first-token timeout; everything else sooner.
  await Promise.race([Promise.all([...inflight]), sleep(15_000)]);
  clearInterval(progress);

  const hostileMs = Number(values['hostile-seconds']) * 1000;
  const hostile =
    hostileMs > 0
      ? await runHostilePhase({
          url: jarvis.url,
          keyA: KEYS.a,
          keyB: KEYS.b,
          internalUrl: up.control,
          quietMs: Number(values['quiet-seconds']) * 1000,
          hostileMs,
          intensity: Number(values.intensity),
          followers: Number(values.followers),
          readers: Number(values.readers),
          imagesPerRequest: Number(values.images),
          fillMb: Number(values['fill-mb']),
          systemKb: Number(values['system-kb']),
          paceMs: 20,
          tokens: 100,
          keyBStreams: 2,
          pid,
          probe: () => jarvis.probe(),
        })
      : undefined;
  clearInterval(rssTimer);
  // Key A's long stream and its readers end with the phase; a moment for the last stream_end.
  if (hostile) await sleep(2000);
  const active = ((await (await fetch(`${jarvis.url}/health`)).json()) as { active_streams: number }).active_streams;
  const stoppedAt = performance.now();
  await jarvis.stop();
  const stopMs = performance.now() - stoppedAt;
  await up.child.stop();

  const hostileOk = hostile ? reportHostile(hostile) : true;
  report(jarvis.logFile, rss, healthMs, healthFailures, active, stopMs, jarvis.proc.exitCode, hostileOk);
}

function report(logFile: string, rss: number[], healthMs: number[], healthFailures: number, active: number, stopMs: number, exitCode: number | null, hostileOk: boolean): void {
  const starts = new Map<string, number>();
  const ends = new Map<string, number>();
  for (const raw of readFileSync(logFile, 'utf8').split('\n')) {
    if (!raw.includes(' stream_start ') && !raw.includes(' stream_end ')) continue;
    const line = parseLine(raw);
    const trace = line?.fields.trace ?? '';
    const into = line?.event === 'stream_start' ? starts : line?.event === 'stream_end' ? ends : undefined;
    into?.set(trace, (into.get(trace) ?? 0) + 1);
  }
  const startCount = [...starts.values()].reduce((a, b) => a + b, 0);
  const endCount = [...ends.values()].reduce((a, b) => a + b, 0);
  const unmatched = [...starts.keys()].filter((t) => ends.get(t) !== 1).length + [...ends.keys()].filter((t) => !starts.has(t)).length;
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
  const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');

  console.log('\n== soak result');
  console.log(`stream_start ${startCount}, stream_end ${endCount}, unmatched ${unmatched}${startCount === endCount && unmatched === 0 ? ' (every start has one end)' : '  <-- MISMATCH'}`);
  console.log(`actions: ${sorted(actions)}`);
  console.log(`ends seen by clients: ${sorted(outcomes)}`);
  console.log(`Jarvis RSS: start ${mb(rss[0]!)}, max ${mb(Math.max(...rss))}, end ${mb(rss.at(-1)!)}`);
  console.log(`/health: ${healthMs.length} probes, p50 ${fmt(percentile(healthMs, 50))}, p99 ${fmt(percentile(healthMs, 99))}, max ${fmt(Math.max(...healthMs))}, failures ${healthFailures}`);
  console.log(`active streams at the end: ${active}; SIGTERM to exit: ${fmt(stopMs)} (exit code ${exitCode})`);
  const ok = startCount === endCount && unmatched === 0 && healthFailures === 0 && exitCode === 0 && hostileOk;
  console.log(ok ? 'soak OK' : `soak FAILED${hostileOk ? '' : ' (the hostile phase: see above)'}`);
  process.exitCode = ok ? 0 : 1;
}

void main();
