import type http from 'node:http';
import { epochNow, postJson, startedBeforeEnd, timedStream, type Target } from '../lib/client.js';
import { percentile, spread, type Spread } from '../lib/stats.js';
import { closedRecord } from '../lib/records.js';

export interface StopRow {
  path: string;
  how: 'stop endpoint' | 'client disconnect';
  stops: number;
  /** Stop → upstream request closed, per round. */
  p50Ms: Spread;
  p99Ms: Spread;
  /** Stops after which the upstream went on to the end of its reply instead (nobody told it). */
  ranToEnd: number;
  /** Attempts left out because the stream ended before its first token (its upstream never answered). */
  failed: number;
  /** Every stop's figure, all rounds (the distribution the plots draw: bench/lib/plots/). */
  samplesMs: number[];
}

interface Sample {
  ms: number;
  ranToEnd: boolean;
}

export interface StopOptions {
  /** Where `POST /v1/sessions/{id}/stop` goes (Jarvis). */
  stopUrl?: string;
  /** Bounds each reply (at 50 tokens/s): a path that never closes its upstream lets it run to its end. */
  tokens?: number;
  /** Run a round's stops at once (for a path whose upstream runs on to the end anyway). */
  parallel?: boolean;
}

/** `rounds` × `perRound` stops: A streams, is stopped, and the time until its upstream request closed is taken. */
export async function stop(target: Target, control: string, how: StopRow['how'], rounds: number, perRound: number, options: StopOptions = {}): Promise<StopRow> {
  const { stopUrl, tokens = 100_000, parallel = false } = options;
  const run = Math.random().toString(36).slice(2, 8);
  const p50: number[] = [];
  const p99: number[] = [];
  let ranToEnd = 0;
  let failed = 0;
  const all: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const one = (i: number) => stopOnce(target, control, how, `${run}-${round}-${i}`, stopUrl, tokens);
    const attempts: Array<Sample | undefined> = [];
    if (parallel) attempts.push(...(await Promise.all(Array.from({ length: perRound }, (_, i) => one(i)))));
    else for (let i = 0; i < perRound; i++) attempts.push(await one(i));
    const results = attempts.filter((s): s is Sample => s !== undefined);
    failed += attempts.length - results.length;
    const samples = results.map((s) => s.ms);
    all.push(...samples);
    ranToEnd += results.filter((s) => s.ranToEnd).length;
    p50.push(percentile(samples, 50));
    p99.push(percentile(samples, 99));
  }
  return { path: target.name, how, stops: rounds * perRound - failed, p50Ms: spread(p50), p99Ms: spread(p99), ranToEnd, failed, samplesMs: all };
}

async function stopOnce(target: Target, control: string, how: StopRow['how'], id: string, stopUrl: string | undefined, tokens: number): Promise<Sample | undefined> {
  const session = `stop-${id}`;
  const prompt = `id=S${id} n=${tokens} ms=20`;
  let req: http.ClientRequest | undefined;
  let onFirst!: () => void;
  const started = new Promise<void>((resolve) => (onFirst = resolve));
  const stream = timedStream(target, prompt, { session, onFirstToken: () => onFirst(), onRequest: (r) => (req = r) }).catch(() => undefined);
  if (!(await startedBeforeEnd(started, stream))) {
    console.error(`stop (${target.name}): ${session} ended before its first token; left out`);
    return undefined;
  }
  const stoppedAt = epochNow();
  if (how === 'stop endpoint') await postJson(`${stopUrl}/v1/sessions/${session}/stop`);
  else req!.destroy();
  const record = await closedRecord(control, prompt, tokens * 20 + 10_000);
  await stream;
  return { ms: record.closedAt! - stoppedAt, ranToEnd: record.completed };
}
