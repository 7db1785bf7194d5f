import http from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROBE_FLAGS, startChild } from './lib/processes.js';
import { MODEL, startUpstreams, type Upstreams } from './lib/setup.js';

// `npx tsx bench/heapCensus.ts --backend demo --from 500 --to 2500`: what one idle stream
// holds in the built Jarvis's heap. Opens `from` slow streams, takes a heap snapshot,
// opens up to `to`, takes another, and prints the difference per kind of object
// (V8's node type and constructor or function name) divided by the streams added:
// count and bytes per stream, largest first. The memory hunt of docs/benchmark.md
// ("Scale") starts here; the scale section gives the figure, this says what makes it.

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'demo' },
    from: { type: 'string', default: '500' },
    to: { type: 'string', default: '2500' },
    top: { type: 'string', default: '40' },
    api: { type: 'string', default: 'ndjson' },
    // Kinds (as printed, e.g. `object:Object`) whose retainers are counted too: `edge ← retainer kind`.
    who: { type: 'string', multiple: true, default: [] },
    // Kinds whose objects are also counted by their first property names (`kind {a,b,c}`).
    shape: { type: 'string', multiple: true, default: [] },
  },
});
const from = Number(values.from);
const to = Number(values.to);

interface Census {
  count: Map<string, number>;
  bytes: Map<string, number>;
}

/** Groups a snapshot's nodes by type and name (V8's heap snapshot format: docs in the Chrome DevTools protocol). */
function census(file: string): Census {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
    nodes: number[];
    edges: number[];
    locations?: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const count = new Map<string, number>();
  const bytes = new Map<string, number>();
  const keys: string[] = [];
  // Closures are told apart by where their function is (script id:line), when the snapshot says.
  const where = new Map<number, string>();
  const loc = snap.locations ?? [];
  for (let i = 0; i + 3 < loc.length; i += 4) where.set(loc[i]!, `@${loc[i + 1]}:${loc[i + 2]! + 1}`);
  const wantedStrings = values.who.includes('string:');
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!;
    const rawName = snap.strings[snap.nodes[i + nameAt]!]!;
    // Strings are grouped by type alone: their names are their contents.
    const name = type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number' ? '' : rawName.slice(0, 60);
    const key = `${type}:${name}${type === 'closure' ? (where.get(i) ?? '') : ''}`;
    keys.push(key);
    if (wantedStrings && type === 'string') {
      const k = `  string = ${JSON.stringify(rawName.slice(0, 50))}`;
      count.set(k, (count.get(k) ?? 0) + 1);
      bytes.set(k, (bytes.get(k) ?? 0) + snap.nodes[i + sizeAt]!);
    }
    count.set(key, (count.get(key) ?? 0) + 1);
    bytes.set(key, (bytes.get(key) ?? 0) + snap.nodes[i + sizeAt]!);
  }
  // Retainers of the kinds asked for: each edge into one of them, by edge name and the retainer's kind.
  const wanted = new Set(values.who);
  const shaped = new Set(values.shape);
  if (wanted.size || shaped.size) {
    const efields = snap.snapshot.meta.edge_fields;
    const etypes = snap.snapshot.meta.edge_types[0];
    const ewidth = efields.length;
    const [etAt, enAt, toAt] = ['type', 'name_or_index', 'to_node'].map((f) => efields.indexOf(f)) as [number, number, number];
    const ecAt = fields.indexOf('edge_count');
    let e = 0;
    for (let i = 0, n = 0; i < snap.nodes.length; i += width, n++) {
      const edges = snap.nodes[i + ecAt]!;
      if (shaped.has(keys[n]!)) {
        const names: string[] = [];
        for (let j = 0; j < edges && names.length < 8; j++) {
          const f = e + j * ewidth;
          const et = etypes[snap.edges[f + etAt]!]!;
          if (et === 'property' || et === 'internal') names.push(snap.strings[snap.edges[f + enAt]!]!.slice(0, 20));
        }
        const k = `  ${keys[n]} {${names.join(',')}}`;
        count.set(k, (count.get(k) ?? 0) + 1);
        bytes.set(k, (bytes.get(k) ?? 0) + snap.nodes[i + sizeAt]!);
      }
      for (let j = 0; j < edges; j++, e += ewidth) {
        const target = keys[snap.edges[e + toAt]! / width]!;
        if (!wanted.has(target)) continue;
        const et = etypes[snap.edges[e + etAt]!]!;
        if (et === 'weak') continue;
        const en = et === 'element' || et === 'hidden' ? `[${et}]` : snap.strings[snap.edges[e + enAt]!]!;
        const k = `  ${target} ← .${String(en).slice(0, 40)} of ${keys[n]}`;
        count.set(k, (count.get(k) ?? 0) + 1);
        bytes.set(k, (bytes.get(k) ?? 0) + snap.nodes[snap.edges[e + toAt]! + sizeAt]!);
      }
    }
  }
  return { count, bytes };
}

async function openStreams(url: string, body: unknown, headers: Record<string, string>, n: number, marker: string, offset: number): Promise<http.ClientRequest[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const reqs: http.ClientRequest[] = [];
  for (let i = 0; i < n; i += 250) {
    const batch: Array<Promise<void>> = [];
    for (let k = i; k < Math.min(n, i + 250); k++) {
      batch.push(
        new Promise((resolve, reject) => {
          const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'x-session-id': `census-${offset + k}`, ...headers } }, (res) => {
            let seen = '';
            res.on('data', (c: Buffer) => {
              if (seen !== 'done' && (seen += c.toString('latin1')).includes(marker)) {
                seen = 'done';
                resolve();
              }
            });
          });
          req.on('error', reject);
          req.end(JSON.stringify(body));
          reqs.push(req);
        }),
      );
    }
    await Promise.all(batch);
  }
  return reqs;
}

const dir = mkdtempSync(join(tmpdir(), 'jarvis-census-'));
let up: Upstreams | undefined;
const env: Record<string, string> = { JARVIS_LOG_STDOUT: '0', JARVIS_LOG_FILE: join(dir, 'system.log'), JARVIS_DATA_DIR: join(dir, 'data'), JARVIS_MAX_STREAMS: String(to), JARVIS_MAX_STREAMS_PER_CLIENT: String(to) };
if (values.backend === 'demo') Object.assign(env, { JARVIS_BACKEND: 'demo', JARVIS_DEMO_TOKEN_MS: '2000' });
else {
  up = await startUpstreams();
  Object.assign(env, values.backend === 'ollama' ? { JARVIS_BACKEND: 'ollama', OLLAMA_HOST: up.ollama } : { JARVIS_BACKEND: 'openai', OPENAI_BASE_URL: up.openai });
}
const jarvis = await startChild([...PROBE_FLAGS, '--heapsnapshot-signal=SIGUSR1', `--diagnostic-dir=${dir}`, 'dist/main.js', '--port', '0'], env, /listening on (http:\/\/\S+)/);
const url = `${jarvis.info.url!}/v1/chat/completions`;
const prompt = values.backend === 'demo' ? 'census' : 'n=600 ms=1000';
const ndjson = values.api === 'ndjson';
const body = ndjson ? { messages: [{ role: 'user', content: prompt }] } : { model: MODEL, messages: [{ role: 'user', content: prompt }], stream: true };
const headers: Record<string, string> = ndjson ? { accept: 'application/x-ndjson' } : {};
const marker = ndjson ? '"type":"token"' : '"delta":{"content":';

async function snapshot(): Promise<string> {
  await jarvis.probe(); // two full GCs first
  const before = new Set(readdirSync(dir));
  jarvis.proc.kill('SIGUSR1');
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const made = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (made) {
      // Written in one go by the time its size stops changing: wait for the probe to answer after it.
      await jarvis.probe();
      return join(dir, made);
    }
  }
}

const reqs = await openStreams(url, body, headers, from, marker, 0);
const a = census(await snapshot());
reqs.push(...(await openStreams(url, body, headers, to - from, marker, from)));
const b = census(await snapshot());
const added = to - from;
const rows = [...b.bytes.keys()]
  .map((k) => ({ k, bytes: (b.bytes.get(k)! - (a.bytes.get(k) ?? 0)) / added, count: (b.count.get(k)! - (a.count.get(k) ?? 0)) / added }))
  .filter((r) => Math.abs(r.bytes) >= 8)
  .sort((x, y) => y.bytes - x.bytes);
let total = 0;
for (const r of rows) if (!r.k.startsWith(' ')) total += r.bytes;
console.log(`per stream, ${values.backend} backend, ${values.api}, ${from} → ${to} streams: ${total.toFixed(0)} bytes of heap in snapshot nodes`);
for (const r of rows.filter((r) => !r.k.startsWith(' ')).slice(0, Number(values.top))) console.log(`${r.bytes.toFixed(1).padStart(8)} B  ${r.count.toFixed(2).padStart(6)} ×  ${r.k}`);
if (values.who.length || values.shape.length) console.log('retainers (and strings by content):');
for (const r of rows.filter((r) => r.k.startsWith(' ')).slice(0, 3 * Number(values.top))) console.log(`${r.bytes.toFixed(1).padStart(8)} B  ${r.count.toFixed(2).padStart(6)} ×  ${r.k}`);
for (const r of reqs) r.destroy();
await jarvis.stop();
await up?.child.stop();
rmSync(dir, { recursive: true, force: true });
