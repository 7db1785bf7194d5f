import http from 'node:http';
import { agent, type Target } from '../lib/client.js';
import type { Child, Probe } from '../lib/processes.js';
import { percentile, slope } from '../lib/stats.js';

export interface ScaleRow {
  path: string;
  streams: number;
  /** Slope of live RSS (after a full GC) over the number of open streams, from 5 stream counts. */
  rssPerStreamKB: number;
  /** The same for the JS heap alone. */
  heapPerStreamKB: number;
  /** The points the slopes come from: [streams, RSS MB, heap MB]. */
  points: Array<[number, number, number]>;
  eventLoopP99Ms: number;
  healthP99Ms: number;
  healthMaxMs: number;
  errors: number;
  openSeconds: number;
}

export interface ScaleSubject {
  path: string;
  server: Child;
  /** How a slow stream is asked for (the prompt makes it one token a second). */
  target: Target;
  prompt: string;
  /** A cheap GET answered by the same process: /health, or its equivalent. */
  healthUrl: string;
  /** Streams the server still has open (where it can tell), to wait for them to end. */
  activeStreams?: () => Promise<number>;
}

interface OpenStream {
  req: http.ClientRequest;
  firstToken: Promise<void>;
}

/** Opens one slow stream on its own session; resolves once its headers are in. */
function openStream(target: Target, session: string, onError: () => void, closing: () => boolean): Promise<OpenStream> {
  return new Promise((resolve) => {
    let first!: () => void;
    const firstToken = new Promise<void>((r) => (first = r));
    const stream: OpenStream = { req: undefined as unknown as http.ClientRequest, firstToken };
    let failed = false;
    const fail = () => {
      if (failed || closing()) return;
      failed = true;
      onError();
      first();
      resolve(stream);
    };
    stream.req = http.request(target.url, { method: 'POST', agent, headers: { 'content-type': 'application/json', ...target.headers, 'x-session-id': session } }, (res) => {
      if (res.statusCode !== 200) fail();
      let seen = '';
      res.on('data', (chunk: Buffer) => {
        if (seen !== 'done' && (seen += chunk.toString('latin1')).includes(target.firstTokenMarker)) {
          seen = 'done';
          first();
        }
      });
      res.on('error', () => {});
      resolve(stream);
    });
    stream.req.on('error', fail);
    stream.req.end(JSON.stringify(target.body(session)));
  });
}

/**
 * N concurrent slow streams (one token a second), each its own session: the
 * server's memory per stream, its event-loop delay, and its health latency while
 * they run. Memory is the slope of live memory (after a full GC, bench/peers/probe.mjs)
 * over 0, ¼, ½, ¾ and all N streams open: a difference taken without a GC can even
 * come out negative.
 */
export async function scale(subject: ScaleSubject, streams: number, measureMs: number): Promise<ScaleRow> {
  let errors = 0;
  let closing = false;
  const { target, server } = subject;
  const slow: Target = { ...target, body: () => target.body(subject.prompt) };
  const opened: OpenStream[] = [];
  const open = async (from: number, to: number) => {
    for (let i = from; i < to; i += 250) {
      const batch = [];
      for (let k = i; k < Math.min(to, i + 250); k++) batch.push(openStream(slow, `scale-${streams}-${k}`, () => errors++, () => closing));
      opened.push(...(await Promise.all(batch)));
    }
    await Promise.all(opened.map((s) => s.firstToken));
  };
  const closeAll = async () => {
    closing = true;
    for (const s of opened.splice(0)) s.req.destroy();
    if (subject.activeStreams) while ((await subject.activeStreams()) > 0) await new Promise((r) => setTimeout(r, 50));
    else await new Promise((r) => setTimeout(r, 500));
    closing = false;
  };

  // Warm-up: the code paths compiled, the pools grown, before the first point.
  await open(0, Math.min(50, streams));
  await closeAll();

  const points: Array<[number, Probe]> = [[0, await server.probe()]];
  const steps = [0.25, 0.5, 0.75, 1].map((f) => Math.round(streams * f));
  let at = 0;
  let openMs = 0;
  for (const step of steps) {
    const t = performance.now();
    await open(at, step);
    openMs += performance.now() - t;
    at = step;
    points.push([step, await server.probe()]);
  }

  const health: number[] = [];
  const until = performance.now() + measureMs;
  while (performance.now() < until) {
    const t = performance.now();
    const res = await fetch(subject.healthUrl);
    await res.arrayBuffer();
    if (res.status !== 200) errors++;
    health.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 20));
  }
  const { eventLoopP99Ms } = await server.probe();
  await closeAll();

  const kb = (bytes: number) => bytes / 1024;
  const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
  return {
    path: subject.path,
    streams,
    rssPerStreamKB: kb(slope(points.map(([n, p]) => [n, p.rssBytes]))),
    heapPerStreamKB: kb(slope(points.map(([n, p]) => [n, p.heapUsedBytes]))),
    points: points.map(([n, p]) => [n, mb(p.rssBytes), mb(p.heapUsedBytes)]),
    eventLoopP99Ms,
    healthP99Ms: percentile(health, 99),
    healthMaxMs: Math.max(...health),
    errors,
    openSeconds: openMs / 1000,
  };
}
