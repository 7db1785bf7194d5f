import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { sqliteDialect, SQLITE_FILE } from '../src/store/dialects.js';
import { SqlConversationStore } from '../src/store/sqlStore.js';
import { FakeOllama } from '../test/helpers/fakes/fakeOllama.js';
import { spawnJarvis } from '../test/helpers/jarvisProcess.js';
import { percentile } from './lib/stats.js';

// One key's searches against another key's stream (docs/security.md, "Searches and the
// store"): a big SQLite store, 20 concurrent searches at a time from key `searcher`,
// while key `streamer` streams an answer and a worker thread probes /health.
// Not part of `npm test` or `npm run bench` (the fill writes hundreds of MB):
//
//   npx tsx bench/searchStorm.ts fill /tmp/storm 300    # a ~300 MB store in /tmp/storm
//   npx tsx bench/searchStorm.ts migrate /tmp/storm      # (optional) time the migrations alone
//   npx tsx bench/searchStorm.ts measure /tmp/storm     # start Jarvis on it and measure
//
// `measure` starts Jarvis (src/main.ts through tsx) on that data dir, which runs any
// migration left (on a store an older version filled: building the search index, which
// takes longer than the start-up wait: run `migrate` first).

const SEARCHER = 'searcher';
const KEYS = `${SEARCHER}:k-search-0123456789ab,streamer:k-stream-0123456789ab`;
const WORDS = 'the of and to in is that it for on with as was at by be this are from or have an not they which one you were her all she there would their we him been has when who will more no if out so said what up its about into than them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(' ');

function text(random: () => number, chars: number): string {
  const out: string[] = [];
  let n = 0;
  while (n < chars) {
    const w = WORDS[Math.floor(random() * WORDS.length)]!;
    out.push(w);
    n += w.length + 1;
  }
  return out.join(' ');
}

/** A small deterministic PRNG (mulberry32): the same store every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function fill(dir: string, mb: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const { store } = await SqlConversationStore.open(sqliteDialect(dir));
  const random = prng(42);
  const started = performance.now();
  let written = 0;
  let conversations = 0;
  // 40 messages of ~2 KB per conversation: ~80 KB each.
  while (written < mb * 1_000_000) {
    const messages = Array.from({ length: 40 }, (_, i) => ({ role: (i % 2 ? 'assistant' : 'user') as 'user' | 'assistant', content: text(random, 2000) }));
    await store.createConversation(SEARCHER, { title: `conversation ${conversations}`, messages });
    written += messages.reduce((s, m) => s + m.content.length, 0);
    conversations++;
    if (conversations % 500 === 0) console.log(`${conversations} conversations, ${(written / 1e6).toFixed(0)} MB of text`);
  }
  await store.close();
  const size = statSync(join(dir, SQLITE_FILE)).size;
  console.log(`filled: ${conversations} conversations, ${(written / 1e6).toFixed(0)} MB of text, file ${(size / 1e6).toFixed(0)} MB, ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

const PROBER = `
const { parentPort, workerData } = require('node:worker_threads');
const latencies = [];
let running = true;
parentPort.on('message', () => { running = false; });
(async () => {
  await (await fetch(workerData.url + '/health')).json();
  parentPort.postMessage('ready');
  while (running) {
    const t = performance.now();
    try {
      await (await fetch(workerData.url + '/health')).json();
    } catch {
      // A keep-alive connection the server closed as it was reused: counted, as a slow probe.
    }
    latencies.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 5));
  }
  parentPort.postMessage(latencies);
})();
`;

const auth = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

/** A conversation prompt's NDJSON answer; the arrival time of each token line. */
async function stream(url: string, signal: AbortSignal): Promise<number[]> {
  const created = await fetch(`${url}/v1/conversations`, { method: 'POST', headers: auth('k-stream-0123456789ab'), body: '{}' });
  const { id } = (await created.json()) as { id: string };
  const res = await fetch(`${url}/v1/conversations/${id}/messages`, { method: 'POST', headers: { ...auth('k-stream-0123456789ab'), accept: 'application/x-ndjson' }, body: JSON.stringify({ content: 'go', model: 'fake-llama:latest' }), signal });
  const times: number[] = [];
  const decoder = new TextDecoder();
  let rest = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const now = performance.now();
      rest += decoder.decode(chunk, { stream: true });
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.includes('"type":"token"')) times.push(now);
    }
  } catch {
    // aborted at the end of the measurement
  }
  return times;
}

async function search(url: string, q: string): Promise<{ ms: number; status: number }> {
  const t = performance.now();
  const res = await fetch(`${url}/v1/conversations?q=${encodeURIComponent(q)}`, { headers: auth('k-search-0123456789ab') });
  await res.arrayBuffer();
  return { ms: performance.now() - t, status: res.status };
}

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);
const fmt = (v: number[]) => `p50 ${percentile(v, 50).toFixed(1)} ms, p99 ${percentile(v, 99).toFixed(1)} ms, max ${Math.max(...v).toFixed(1)} ms (${v.length})`;

async function measure(dir: string, rounds: number, queries: string[]): Promise<void> {
  const fake = await new FakeOllama().start();
  // A steady stream: a token every 10 ms, longer than the storm.
  fake.plan = () => ({ tokens: Array.from({ length: 100_000 }, (_, i) => `t${i} `), tokenMs: 10 });
  const t0 = performance.now();
  const jarvis = await spawnJarvis({ JARVIS_BACKEND: 'ollama', OLLAMA_HOST: fake.url, JARVIS_DATA_DIR: dir, JARVIS_API_KEYS: KEYS });
  console.log(`Jarvis up (migrations included) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  try {
    const prober = new Worker(PROBER, { eval: true, workerData: { url: jarvis.url } });
    await new Promise((resolve) => prober.once('message', resolve));
    const stop = new AbortController();
    const tokens = stream(jarvis.url, stop.signal);
    await new Promise((r) => setTimeout(r, 2000));
    const quietUntil = performance.now();
    const searches: Array<{ ms: number; status: number; q: string }> = [];
    const stormFrom = performance.now();
    for (let r = 0; r < rounds; r++) {
      for (const q of queries) {
        const results = await Promise.all(Array.from({ length: 20 }, () => search(jarvis.url, q)));
        console.log(`  round ${r + 1}, ${JSON.stringify(q)}: 20 searches in ${Math.max(...results.map((x) => x.ms)).toFixed(0)} ms`);
        searches.push(...results.map((x) => ({ ...x, q })));
      }
    }
    const stormTo = performance.now();
    prober.postMessage('stop');
    const health = await new Promise<number[]>((resolve) => prober.once('message', resolve));
    await prober.terminate();
    stop.abort();
    const times = await tokens;
    const quiet = gaps(times.filter((t) => t < quietUntil));
    const storm = gaps(times.filter((t) => t >= stormFrom && t <= stormTo));
    console.log(`storm: ${rounds} rounds × ${queries.length} queries × 20 concurrent searches in ${((stormTo - stormFrom) / 1000).toFixed(1)} s`);
    for (const q of queries) {
      const mine = searches.filter((s) => s.q === q);
      console.log(`  search ${JSON.stringify(q)}: ${fmt(mine.map((s) => s.ms))}; statuses ${[...new Set(mine.map((s) => s.status))].join(',')}`);
    }
    console.log(`stream inter-token gap, before the storm: ${fmt(quiet)}`);
    console.log(`stream inter-token gap, during the storm: ${fmt(storm)}`);
    console.log(`/health (whole run): ${fmt(health)}`);
  } finally {
    jarvis.proc.kill('SIGTERM');
    await jarvis.exited;
    await fake.stop();
  }
}

/** Opens the store, which runs its migrations (on an older store: builds the search index), and says how long that took. */
async function migrate(dir: string): Promise<void> {
  const started = performance.now();
  const { store, migrated } = await SqlConversationStore.open(sqliteDialect(dir));
  await store.close();
  console.log(`migrated ${migrated.join(',') || '(nothing to do)'} in ${((performance.now() - started) / 1000).toFixed(1)} s; file ${(statSync(join(dir, SQLITE_FILE)).size / 1e6).toFixed(0)} MB`);
}

const [command, dir, arg] = process.argv.slice(2);
if (command === 'fill' && dir) await fill(dir, Number(arg ?? 300));
else if (command === 'migrate' && dir) await migrate(dir);
else if (command === 'measure' && dir) await measure(dir, Number(arg ?? 2), ['zebra crossing', 'people', 'qx']);
else {
  console.error('usage: npx tsx bench/searchStorm.ts fill DIR [MB] | migrate DIR | measure DIR [ROUNDS]');
  process.exitCode = 2;
}
