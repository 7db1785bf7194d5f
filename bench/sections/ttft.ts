import { timedStream, type Target } from '../lib/client.js';
import { percentile, spread, type Spread } from '../lib/stats.js';

export interface TtftRow {
  target: string;
  baseline: string | undefined;
  requests: number;
  p50Ms: Spread;
  p95Ms: Spread;
  p99Ms: Spread;
  /** Per round: this path's p50 less its baseline's p50 in the same round (none for a baseline). */
  addedP50Ms: Spread | undefined;
  addedP95Ms: Spread | undefined;
  addedP99Ms: Spread | undefined;
  /** Per round: the p50 of what Jarvis reports it added itself (its `Server-Timing` `jarvis` figure). */
  ownP50Ms: Spread | undefined;
}

/**
 * Time to first token of short replies, one request at a time. Each round sends
 * `perRound` requests to every target, interleaved request by request, so a path
 * and its baseline see the same moment of the machine's load; what a path adds is
 * taken per round, against its baseline in that round.
 */
export async function ttft(targets: Target[], rounds: number, perRound: number): Promise<TtftRow[]> {
  for (const target of targets) for (let i = 0; i < 20; i++) await timedStream(target, 'n=3', { session: `ttft-warm-${i}` });
  const p50 = new Map(targets.map((t) => [t, [] as number[]]));
  const p95 = new Map(targets.map((t) => [t, [] as number[]]));
  const p99 = new Map(targets.map((t) => [t, [] as number[]]));
  const own = new Map(targets.map((t) => [t, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    const samples = new Map(targets.map((t) => [t, [] as number[]]));
    const owns = new Map(targets.map((t) => [t, [] as number[]]));
    for (let i = 0; i < perRound; i++) {
      for (const target of targets) {
        const r = await timedStream(target, 'n=3', { session: `ttft-${round}-${i}` });
        if (r.status !== 200) throw new Error(`${target.name}: HTTP ${r.status}`);
        samples.get(target)!.push(r.ttftMs);
        if (r.ownMs !== undefined) owns.get(target)!.push(r.ownMs);
      }
    }
    for (const target of targets) {
      p50.get(target)!.push(percentile(samples.get(target)!, 50));
      p95.get(target)!.push(percentile(samples.get(target)!, 95));
      p99.get(target)!.push(percentile(samples.get(target)!, 99));
      own.get(target)!.push(percentile(owns.get(target)!, 50));
    }
  }
  const added = (m: Map<Target, number[]>, target: Target) => {
    const base = target.baseline && m.get(target.baseline);
    return base ? spread(m.get(target)!.map((v, i) => v - base[i]!)) : undefined;
  };
  return targets.map((target) => ({
    target: target.name,
    baseline: target.baseline?.name,
    requests: rounds * perRound,
    p50Ms: spread(p50.get(target)!),
    p95Ms: spread(p95.get(target)!),
    p99Ms: spread(p99.get(target)!),
    addedP50Ms: added(p50, target),
    addedP95Ms: added(p95, target),
    addedP99Ms: added(p99, target),
    ownP50Ms: own.get(target)!.some(Number.isFinite) ? spread(own.get(target)!) : undefined,
  }));
}
