import { timedStream, type Target } from '../lib/client.js';
import { percentile } from '../lib/stats.js';

export interface TtftRow {
  target: string;
  requests: number;
  p50Ms: number;
  p99Ms: number;
}

/** Time to first token of short replies, one request at a time. */
export async function ttft(targets: Target[], requests: number): Promise<TtftRow[]> {
  const rows: TtftRow[] = [];
  for (const target of targets) {
    for (let i = 0; i < 20; i++) await timedStream(target, 'n=3', { session: `ttft-warm-${i}` });
    const samples: number[] = [];
    for (let i = 0; i < requests; i++) {
      const r = await timedStream(target, 'n=3', { session: `ttft-${i}` });
      if (r.status !== 200) throw new Error(`${target.name}: HTTP ${r.status}`);
      samples.push(r.ttftMs);
    }
    rows.push({ target: target.name, requests, p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99) });
  }
  return rows;
}
