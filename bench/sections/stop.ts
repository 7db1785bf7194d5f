import type http from 'node:http';
import { epochNow, postJson, timedStream, type Target } from '../lib/client.js';
import { percentile } from '../lib/stats.js';
import { closedRecord } from '../lib/records.js';

export interface StopRow {
  how: 'stop endpoint' | 'client disconnect';
  stops: number;
  /** Stop → upstream request closed. */
  p50Ms: number;
  p99Ms: number;
}

/** A streams; Stop it (endpoint, or by dropping the connection); time until its upstream request is closed. */
export async function stop(target: Target, jarvisUrl: string, control: string, count: number, how: StopRow['how']): Promise<StopRow> {
  const samples: number[] = [];
  const run = Math.random().toString(36).slice(2, 8);
  for (let i = 0; i < count; i++) {
    const session = `stop-${run}-${i}`;
    const prompt = `id=S${run}${i} n=100000 ms=20`;
    let req: http.ClientRequest | undefined;
    let onFirst!: () => void;
    const started = new Promise<void>((resolve) => (onFirst = resolve));
    const stream = timedStream(target, prompt, { session, onFirstToken: () => onFirst(), onRequest: (r) => (req = r) }).catch(() => undefined);
    await started;
    const stoppedAt = epochNow();
    if (how === 'stop endpoint') await postJson(`${jarvisUrl}/v1/sessions/${session}/stop`);
    else req!.destroy();
    const record = await closedRecord(control, prompt);
    samples.push(record.closedAt! - stoppedAt);
    await stream;
  }
  return { how, stops: count, p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99) };
}
