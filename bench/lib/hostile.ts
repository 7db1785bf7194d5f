import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startImageServer, type ImageServer } from './imageServer.js';
import { rssBytes, type Probe } from './processes.js';
import { MODEL } from './setup.js';
import { percentile } from './stats.js';

// The soak's hostile-key phase (docs/tests.md, "Soak"): key B streams at the upstream's steady
// pace while key A does what one key holder can do to hurt the others, at a bounded
// intensity: image URLs (loopback ones, which must be refused; a slow one; many big ones
// in one request), conversation-feed followers that never read while PATCHes with a big
// system prompt feed them, reattach readers that never read, and full-text searches on a
// store it filled. Measured: key B's inter-token gap beyond the upstream's pace, and
// /health, first with key B alone, then with key A at it. A defence that refuses key A
// (a 4xx) is counted, never a soak error.

export interface HostileOptions {
  url: string;
  keyA: string;
  keyB: string;
  /** A service on loopback beside Jarvis (the fake upstream's control port): what a forged image URL reaches for. */
  internalUrl: string;
  quietMs: number;
  hostileMs: number;
  /** Key A's requests in flight per kind (images, PATCHes, searches). */
  intensity: number;
  followers: number;
  readers: number;
  imagesPerRequest: number;
  fillMb: number;
  systemKb: number;
  /** Key B's streams: the upstream's pace (ms per token) and length, and how many at once. */
  paceMs: number;
  tokens: number;
  keyBStreams: number;
  pid: number;
  /** Jarvis's event-loop delay p99 since the last call (bench/peers/probe.mjs). */
  probe: () => Promise<Probe>;
}

interface Phase {
  name: string;
  ms: number;
  gaps: number[];
  health: number[];
  healthFailures: number;
  keyBEnds: Map<string, number>;
  rss: number[];
  jarvisLoopP99: number;
  clientLoopP99: number;
}

export interface HostileResult {
  paceMs: number;
  fill: { askedMb: number; storedBytes: number; conversations: number; ms: number; statuses: Map<string, number> };
  quiet: Phase;
  hostile: Phase;
  keyA: Map<string, number>;
  searchMs: number[];
  patchMs: number[];
  imageHits: ImageServer['hits'];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);

function newPhase(name: string, ms: number): Phase {
  return { name, ms, gaps: [], health: [], healthFailures: 0, keyBEnds: new Map(), rss: [], jarvisLoopP99: NaN, clientLoopP99: NaN };
}

function headers(key: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/x-ndjson', ...extra };
}

/** A request that gets its answer's head and then never reads a byte: the kernel's buffers fill, and Jarvis must hold, bound or drop what it writes. */
function holdUnread(url: string, key: string): { status: Promise<number>; close(): void } {
  const req = http.get(url, { agent: false, headers: { authorization: `Bearer ${key}`, accept: 'application/x-ndjson' } });
  req.on('error', () => {});
  const status = new Promise<number>((resolve) => {
    req.once('response', (res) => {
      res.pause();
      // A refusal is read (it is small); only a 200 stream is left unread.
      if (res.statusCode !== 200) res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', () => resolve(0));
  });
  return { status, close: () => req.destroy() };
}

/** The last line of an NDJSON answer: its terminal event's type (or what ended it). */
async function terminalOf(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  const last = text.trimEnd().split('\n').at(-1) ?? '';
  try {
    const e = JSON.parse(last) as { type?: string; code?: string };
    return e.type === 'error' ? `error ${e.code}` : (e.type ?? 'no terminal');
  } catch {
    return 'no terminal';
  }
}

export async function runHostilePhase(o: HostileOptions): Promise<HostileResult> {
  const images = await startImageServer();
  const keyA = new Map<string, number>();
  const searchMs: number[] = [];
  const patchMs: number[] = [];
  const fill = await fillStore(o);
  const quiet = newPhase('key B alone', o.quietMs);
  const hostile = newPhase('key B, key A hostile', o.hostileMs);
  // Between phases (the probe's GCs), no figure is taken.
  let current: Phase | undefined;
  let stopAll = false;
  const clientLoop = monitorEventLoopDelay({ resolution: 5 });

  const keyBLoop = async (i: number) => {
    for (let n = 0; !stopAll; n++) {
      try {
        const res = await fetch(`${o.url}/v1/chat/completions`, {
          method: 'POST',
          headers: headers(o.keyB, { 'x-session-id': `b-${i}` }),
          body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: `b${i}.${n} n=${o.tokens} ms=${o.paceMs}` }] }),
          signal: AbortSignal.timeout(60_000),
        });
        if (res.status !== 200) {
          if (current) bump(current.keyBEnds, `http ${res.status}`);
          await res.body?.cancel();
          await sleep(200);
          continue;
        }
        const decoder = new TextDecoder();
        let buffered = '';
        let last: number | undefined;
        let end = 'no terminal';
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          const now = performance.now();
          buffered += decoder.decode(chunk, { stream: true });
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 1);
            if (line.includes('"type":"token"')) {
              if (last !== undefined) current?.gaps.push(now - last);
              last = now;
            } else if (/"type":"(done|cancelled|error)"/.test(line)) {
              const e = JSON.parse(line) as { type: string; code?: string };
              end = e.type === 'error' ? `error ${e.code}` : e.type;
            }
          }
        }
        if (current) bump(current.keyBEnds, end);
      } catch (err) {
        if (current) bump(current.keyBEnds, `client failure ${(err as Error).name}`);
      }
    }
  };

  const healthLoop = async () => {
    while (!stopAll) {
      const t = performance.now();
      const phase = current;
      try {
        await (await fetch(`${o.url}/health`, { signal: AbortSignal.timeout(5000) })).json();
        phase?.health.push(performance.now() - t);
      } catch {
        if (phase) phase.healthFailures++;
      }
      phase?.rss.push(rssBytes(o.pid));
      await sleep(50);
    }
  };

  const run = async (phase: Phase, during?: (until: number) => Promise<void>) => {
    await o.probe();
    await sleep(300);
    clientLoop.reset();
    clientLoop.enable();
    current = phase;
    const until = performance.now() + phase.ms;
    await Promise.all([sleep(phase.ms), during?.(until)]);
    current = undefined;
    clientLoop.disable();
    phase.clientLoopP99 = clientLoop.percentile(99) / 1e6;
    phase.jarvisLoopP99 = (await o.probe()).eventLoopP99Ms;
  };

  const background = [healthLoop(), ...Array.from({ length: o.keyBStreams }, (_, i) => keyBLoop(i))];
  await run(quiet);
  await run(hostile, (until) => keyAHostile(o, until, images, keyA, searchMs, patchMs));
  stopAll = true;
  await Promise.race([Promise.all(background), sleep(70_000)]);
  await images.close();
  return { paceMs: o.paceMs, fill, quiet, hostile, keyA, searchMs, patchMs, imageHits: images.hits };
}

/** Key A fills its store with conversations of ~900 KB (under the 1 MiB body limit) until `fillMb`, or until it is refused 5 times in a row. */
async function fillStore(o: HostileOptions): Promise<HostileResult['fill']> {
  const started = performance.now();
  const statuses = new Map<string, number>();
  const words = ['soak', 'hostile', 'store', 'search', 'answer', 'stream', 'token', 'model', 'upstream', 'session'];
  const text = Array.from({ length: 1400 }, (_, i) => words[(i * 7) % words.length]).join(' ').slice(0, 9000);
  let storedBytes = 0;
  let conversations = 0;
  let refusedInARow = 0;
  const one = async (n: number) => {
    const messages = Array.from({ length: 100 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `${n}.${i} ${text}` }));
    const body = JSON.stringify({ title: `fill ${n}`, messages });
    try {
      const res = await fetch(`${o.url}/v1/conversations`, { method: 'POST', headers: headers(o.keyA), body, signal: AbortSignal.timeout(120_000) });
      await res.body?.cancel();
      bump(statuses, String(res.status));
      if (res.status === 201) {
        storedBytes += body.length;
        conversations++;
        refusedInARow = 0;
      } else refusedInARow++;
    } catch (err) {
      bump(statuses, `client failure ${(err as Error).name}`);
      refusedInARow++;
    }
  };
  let n = 0;
  while (storedBytes < o.fillMb * 2 ** 20 && refusedInARow < 5) await Promise.all([one(n++), one(n++)]);
  return { askedMb: o.fillMb, storedBytes, conversations, ms: performance.now() - started, statuses };
}

/** Everything key A does during the hostile phase, each kind with a bounded number in flight, until `until`. */
async function keyAHostile(o: HostileOptions, until: number, images: ImageServer, keyA: Map<string, number>, searchMs: number[], patchMs: number[]): Promise<void> {
  const live = () => performance.now() < until;
  const loop = async (action: () => Promise<void>) => {
    while (live()) {
      await action().catch((err: Error) => bump(keyA, `client failure ${err.name}`));
      await sleep(50);
    }
  };

  // Image URLs: loopback ones (Jarvis itself, a service beside it), a slow one, many big ones.
  const jarvisPort = new URL(o.url).port;
  const variants: Record<string, string[]> = {
    'images loopback': [`http://127.0.0.1:${jarvisPort}/health`, `${o.internalUrl}/records`],
    'images slow': [images.slowUrl],
    [`images ${o.imagesPerRequest} big`]: Array.from({ length: o.imagesPerRequest }, (_, i) => `${images.bigUrl}?i=${i}`),
  };
  let turn = 0;
  const imageRequest = async () => {
    const [kind, urls] = Object.entries(variants)[turn++ % 3] as [string, string[]];
    const content = [{ type: 'text', text: `a.img n=5 ms=0` }, ...urls.map((url) => ({ type: 'image_url', image_url: { url } }))];
    const res = await fetch(`${o.url}/v1/chat/completions`, {
      method: 'POST',
      headers: headers(o.keyA, { 'x-session-id': `a-img-${turn}` }),
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }] }),
      signal: AbortSignal.timeout(60_000),
    });
    bump(keyA, `${kind}: ${res.status}${res.status === 200 ? ` ${await terminalOf(res)}` : ''}`);
    if (res.status !== 200) await res.body?.cancel();
  };

  // Feed followers that never read, fed by PATCHes that each carry a big system prompt.
  const created = await fetch(`${o.url}/v1/conversations`, { method: 'POST', headers: headers(o.keyA), body: JSON.stringify({ title: 'hostile feed' }) });
  const conversation = ((await created.json()) as { id?: string }).id;
  const followers = Array.from({ length: o.followers }, () => holdUnread(`${o.url}/v1/conversations/events`, o.keyA));
  for (const f of followers) void f.status.then((s) => bump(keyA, `follower (never reads): ${s}`));
  let patches = 0;
  const patch = async () => {
    const t = performance.now();
    const system = `${patches++} `.padEnd(o.systemKb * 1024, 's');
    const res = await fetch(`${o.url}/v1/conversations/${conversation}`, { method: 'PATCH', headers: headers(o.keyA), body: JSON.stringify({ system }), signal: AbortSignal.timeout(60_000) });
    await res.body?.cancel();
    patchMs.push(performance.now() - t);
    bump(keyA, `patch ${o.systemKb} KiB system: ${res.status}`);
  };

  // Reattach readers that never read, on a long, fast stream of key A's own (which key A reads).
  const readers = async () => {
    while (live()) {
      const res = await fetch(`${o.url}/v1/chat/completions`, {
        method: 'POST',
        headers: headers(o.keyA, { 'x-session-id': 'a-long' }),
        body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'a.long n=1000000 ms=1' }] }),
        signal: AbortSignal.timeout(Math.max(1, Math.ceil(until - performance.now()))),
      }).catch(() => undefined);
      if (!res) return;
      bump(keyA, `long stream: ${res.status}`);
      const id = res.headers.get('x-stream-id');
      if (res.status !== 200 || !id) {
        await res.body?.cancel();
        await sleep(500);
        continue;
      }
      const held = Array.from({ length: o.readers }, () => holdUnread(`${o.url}/v1/streams/${id}/events`, o.keyA));
      for (const h of held) void h.status.then((s) => bump(keyA, `reader (never reads): ${s}`));
      try {
        for await (const _ of res.body as AsyncIterable<Uint8Array>) if (!live()) break;
      } catch {
        // the phase's end aborted it
      }
      for (const h of held) h.close();
    }
  };

  const search = async () => {
    const t = performance.now();
    // A word no message holds: the whole store is searched.
    const q = `zq${Math.random().toString(36).slice(2, 10)}`;
    const res = await fetch(`${o.url}/v1/conversations?q=${q}&limit=50`, { headers: headers(o.keyA), signal: AbortSignal.timeout(60_000) });
    await res.body?.cancel();
    searchMs.push(performance.now() - t);
    bump(keyA, `search: ${res.status}`);
  };

  const loops = Array.from({ length: o.intensity }, () => [loop(imageRequest), loop(patch), loop(search)]).flat();
  await Promise.all([...loops, readers()]);
  for (const f of followers) f.close();
}

/** Prints the hostile phase's figures; true when key B got every answer and both targets were met. */
export function reportHostile(r: HostileResult): boolean {
  const paceMs = r.paceMs;
  const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([k, v]) => `${k} ×${v}`).join(', ');
  const added = (p: Phase, q: number) => percentile(p.gaps, q) - paceMs;
  console.log('\n== hostile key (A) beside a normal key (B)');
  console.log(`store filled by key A: ${r.fill.askedMb} MB asked, ${mb(r.fill.storedBytes)} stored in ${r.fill.conversations} conversations, ${(r.fill.ms / 1000).toFixed(1)} s (HTTP ${sorted(r.fill.statuses)})`);
  for (const p of [r.quiet, r.hostile]) {
    console.log(
      `${p.name} (${(p.ms / 1000).toFixed(0)} s): key B inter-token gap p50 ${fmt(percentile(p.gaps, 50))}, p99 ${fmt(percentile(p.gaps, 99))} (${p.gaps.length} gaps; the upstream's pace ${paceMs} ms: p99 added ${fmt(added(p, 99))}); ` +
        `/health p50 ${fmt(percentile(p.health, 50))}, p99 ${fmt(percentile(p.health, 99))}, failures ${p.healthFailures}; ` +
        `Jarvis event loop p99 ${fmt(p.jarvisLoopP99)}, RSS max ${mb(Math.max(0, ...p.rss))}; soak client's own loop p99 ${fmt(p.clientLoopP99)}`,
    );
    console.log(`  key B's streams: ${sorted(p.keyBEnds) || 'none ended'}`);
  }
  console.log(`key A: ${sorted(r.keyA)}`);
  const total = (test: (outcome: string) => boolean) => [...r.keyA.entries()].filter(([k]) => test(k)).reduce((a, [, v]) => a + v, 0);
  const refused = total((k) => /: 4\d\d/.test(k));
  const inStream = total((k) => /: 200 error /.test(k));
  console.log(`key A refused (4xx): ${refused}, ended by an error event: ${inStream} (a defence at work: counted, not a soak error)`);
  console.log(`image fetches that reached the image server: slow ${r.imageHits.slow}, big ${r.imageHits.big}`);
  console.log(`key A's searches: ${r.searchMs.length}, p50 ${fmt(percentile(r.searchMs, 50))}, p99 ${fmt(percentile(r.searchMs, 99))}; PATCHes: ${r.patchMs.length}, p99 ${fmt(percentile(r.patchMs, 99))}`);
  // Refused before the answer (4xx) or in it (an error event) is refused; an answer that ends `done` had the images.
  const loopbackAccepted = total((k) => k === 'images loopback: 200 done');
  if (loopbackAccepted > 0) console.log(`loopback image URLs fetched and answered: ${loopbackAccepted}  <-- must be refused`);
  const gapP99 = added(r.hostile, 99);
  const healthP99 = percentile(r.hostile.health, 99);
  const keyBFailed = [...r.quiet.keyBEnds.entries(), ...r.hostile.keyBEnds.entries()].filter(([k]) => k !== 'done').reduce((a, [, v]) => a + v, 0);
  const met = (ms: number) => (ms < 100 ? 'met' : 'MISSED');
  console.log(`target (with key A hostile, under 100 ms): key B's added inter-token gap p99 ${fmt(gapP99)} ${met(gapP99)}; /health p99 ${fmt(healthP99)} ${met(healthP99)}`);
  if (keyBFailed > 0) console.log(`key B streams that did not end done: ${keyBFailed}  <-- key A cost key B answers`);
  return gapP99 < 100 && healthP99 < 100 && keyBFailed === 0 && loopbackAccepted === 0 && r.hostile.healthFailures === 0;
}
