import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { GapHistogram, MarkerCounter, StreamGaps } from './gaps.js';

// One of the capacity section's client processes (started by streams.ts with `fork`): it holds
// its share of the paced streams and times their tokens, told what to do over the IPC channel.
// Its own event-loop delay and CPU time are reported with every window, so a figure the
// client itself could not keep up with shows as such (docs/benchmark.md "Capacity").

/** How a stream is asked for; plain data, as it crosses the IPC channel. */
export interface StreamSpec {
  /** Where each stream goes: stream i to urls[i % urls.length] (the cluster path alternates instances). */
  urls: string[];
  headers: Record<string, string>;
  /** The request body, the same for every stream. */
  body: string;
  /** A string that appears once per token in the reply's bytes. */
  marker: string;
  /** The upstream's pace: the gap between two tokens that adds nothing. */
  paceMs: number;
  /** Each stream on its own session: an `x-session-id` header, or (true) a conversation of its own: urls are Jarvis's base URLs. */
  conversation?: boolean;
  /** Prefix of the session ids (unique per path and run). */
  session: string;
}

export type Request =
  | { id: number; type: 'open'; spec: StreamSpec; indices: number[]; timeoutMs: number }
  | { id: number; type: 'measure'; on: boolean }
  | { id: number; type: 'close' };

export interface Opened {
  started: number;
  failed: number;
}

export interface Measured {
  /** Sparse histogram: [bucket, count] pairs (GapHistogram's buckets). */
  counts: Array<[number, number]>;
  tokens: number;
  alive: number;
  /** Streams that ended or failed during the window. */
  ended: number;
  loopP99Ms: number;
  cpuMs: number;
  wallMs: number;
}

interface Stream {
  req: http.ClientRequest;
  gaps: StreamGaps;
  alive: boolean;
  started: boolean;
}

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const histogram = new GapHistogram();
const streams = new Set<Stream>();
let measuring = false;
let closing = false;
let ended = 0;
let tokensAtStart = 0;
let windowStart = { cpu: process.cpuUsage(), at: performance.now() };
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

function post(url: string, headers: Record<string, string>, body: string, onResponse: (res: http.IncomingMessage) => void, onError: () => void): http.ClientRequest {
  const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, onResponse);
  req.on('error', onError);
  req.end(body);
  return req;
}

/** A new conversation's id (the conversation path: each stream is a conversation's answer). */
function newConversation(base: string): Promise<string> {
  return new Promise((resolve, reject) => {
    post(
      `${base}/v1/conversations`,
      {},
      '{}',
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => (res.statusCode === 201 || res.statusCode === 200 ? resolve((JSON.parse(text) as { id: string }).id) : reject(new Error(`conversation: HTTP ${res.statusCode}`))));
      },
      () => reject(new Error('conversation: request failed')),
    );
  });
}

/** Opens one stream; resolves true on its first token, false when it fails or ends first. */
async function open(spec: StreamSpec, i: number, opened: Stream[]): Promise<boolean> {
  const base = spec.urls[i % spec.urls.length]!;
  let url = base;
  let headers: Record<string, string> = { ...spec.headers, 'x-session-id': `${spec.session}-${i}` };
  if (spec.conversation) {
    try {
      url = `${base}/v1/conversations/${await newConversation(base)}/messages`;
    } catch {
      return false;
    }
    headers = { ...spec.headers };
  }
  return new Promise((resolve) => {
    const counter = new MarkerCounter(spec.marker);
    const stream: Stream = { req: undefined as unknown as http.ClientRequest, gaps: new StreamGaps(spec.paceMs, histogram), alive: true, started: false };
    const gone = () => {
      if (!stream.alive) return;
      stream.alive = false;
      streams.delete(stream);
      if (!closing && stream.started) ended++;
      if (!stream.started) resolve(false);
    };
    stream.req = post(
      url,
      headers,
      spec.body,
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return gone();
        }
        res.on('data', (chunk: Buffer) => {
          const k = counter.count(chunk);
          if (k === 0) return;
          stream.gaps.arrived(performance.now(), k, measuring);
          if (!stream.started) {
            stream.started = true;
            resolve(true);
          }
        });
        res.on('end', gone);
        res.on('error', gone);
        res.on('close', gone);
      },
      gone,
    );
    streams.add(stream);
    opened.push(stream);
  });
}

async function openAll(spec: StreamSpec, indices: number[], timeoutMs: number): Promise<Opened> {
  const results: Array<Promise<boolean>> = [];
  const opened: Stream[] = [];
  // 100 requests in flight at a time: the server's start admission paces them anyway, and a
  // client that sent thousands at once would measure its own queue.
  // One deadline for the whole step: a path past its capacity can take minutes to give thousands of
  // streams their first token, and a stream without one by then counts as failed.
  const deadline = performance.now() + timeoutMs;
  const left = () => Math.max(0, deadline - performance.now());
  for (let k = 0; k < indices.length && left() > 0; k += 100) {
    const batch = indices.slice(k, k + 100).map((i) => open(spec, i, opened));
    results.push(...batch);
    await Promise.race([Promise.all(batch.map((p) => p.catch(() => false))), new Promise((r) => setTimeout(r, left()))]);
  }
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), left()));
  const outcomes = await Promise.all(results.map((p) => Promise.race([p, timeout])));
  // A stream with no token by now counts as failed, and goes.
  for (const s of opened) if (!s.started && s.alive) s.req.destroy();
  // Streams never asked for (the deadline came first) failed too.
  return { started: outcomes.filter((o) => o === true).length, failed: indices.length - outcomes.filter((o) => o === true).length };
}

function measure(on: boolean): Measured | undefined {
  const tokens = () => [...streams].reduce((n, s) => n + s.gaps.tokens, 0);
  if (on) {
    histogram.reset();
    loop.reset();
    ended = 0;
    tokensAtStart = tokens();
    windowStart = { cpu: process.cpuUsage(), at: performance.now() };
    measuring = true;
    return undefined;
  }
  measuring = false;
  const cpu = process.cpuUsage(windowStart.cpu);
  const counts: Array<[number, number]> = [];
  histogram.counts.forEach((c, i) => c > 0 && counts.push([i, c]));
  return {
    counts,
    tokens: tokens() - tokensAtStart,
    alive: streams.size,
    ended,
    loopP99Ms: Math.max(0, loop.percentile(99) / 1e6 - 10),
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs: performance.now() - windowStart.at,
  };
}

function closeAll(): void {
  closing = true;
  for (const s of streams) s.req.destroy();
  streams.clear();
  closing = false;
}

process.on('message', (m: Request) => {
  const reply = (result: unknown) => process.send!({ id: m.id, result });
  if (m.type === 'open') void openAll(m.spec, m.indices, m.timeoutMs).then(reply);
  else if (m.type === 'measure') reply(measure(m.on) ?? null);
  else {
    closeAll();
    reply(null);
  }
});
process.send!({ ready: true });
