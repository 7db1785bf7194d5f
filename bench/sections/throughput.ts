import { percentile, timedStream, type Target } from '../lib/client.js';

export interface ThroughputRow {
  target: string;
  tokens: number;
  paceMs: number;
  tokensPerSecond: number;
  runs: number;
}

/** Tokens per second of one long stream, median of `runs`, after a warm-up. */
export async function throughput(targets: Target[], tokens: number, runs: number, paceMs = 0): Promise<ThroughputRow[]> {
  const rows: ThroughputRow[] = [];
  const prompt = paceMs > 0 ? `n=${tokens} ms=${paceMs}` : `n=${tokens} burst`;
  for (const target of targets) {
    await timedStream(target, `n=${Math.min(tokens, 2000)} burst`, { session: `warm-${Math.random()}` });
    const rates: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await timedStream(target, prompt, { session: `tp-${Math.random()}` });
      if (r.status !== 200) throw new Error(`${target.name}: HTTP ${r.status}`);
      rates.push(tokens / (r.totalMs / 1000));
    }
    rows.push({ target: target.name, tokens, paceMs, tokensPerSecond: percentile(rates, 50), runs });
  }
  return rows;
}
