import { startedBeforeEnd, timedStream, type Target } from '../lib/client.js';
import { percentile, spread, type Spread } from '../lib/stats.js';
import { closedRecord } from '../lib/records.js';

export interface SupersedeRow {
  upstream: string;
  supersedes: number;
  /** B's request → A's upstream request closed, per round. */
  closeP50Ms: Spread;
  closeP99Ms: Spread;
  /** B's request → B's first token, per round. */
  firstTokenP50Ms: Spread;
  firstTokenP99Ms: Spread;
  /** Attempts left out because A ended before its first token (its upstream never answered): reported, never waited on forever. */
  failed: number;
  /** Every supersede's figures, all rounds (the distributions the plots draw: bench/lib/plots/). */
  closeSamplesMs: number[];
  firstTokenSamplesMs: number[];
}

/**
 * On one session, A streams (50 tokens/s); then B arrives. Measures how soon A's
 * upstream request is closed and how soon B's first token arrives, from B's request.
 * `targetB`: where B goes (another instance of a cluster); A's target by default.
 */
export async function supersede(target: Target, control: string, rounds: number, perRound: number, label: string, ignoreAbort = false, targetB: Target = target): Promise<SupersedeRow> {
  const run = Math.random().toString(36).slice(2, 8);
  const perRoundFigures = { closeP50: [] as number[], closeP99: [] as number[], firstP50: [] as number[], firstP99: [] as number[] };
  let failed = 0;
  const allClose: number[] = [];
  const allFirst: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const close: number[] = [];
    const first: number[] = [];
    for (let i = 0; i < perRound; i++) {
      const session = `sup-${run}-${round}-${i}`;
      const promptA = `id=A${run}-${round}-${i} n=100000 ms=20${ignoreAbort ? ' ignore' : ''}`;
      let firstTokenA!: () => void;
      const aStarted = new Promise<void>((resolve) => (firstTokenA = resolve));
      const a = timedStream(target, promptA, { session, onFirstToken: () => firstTokenA() });
      if (!(await startedBeforeEnd(aStarted, a))) {
        failed++;
        console.error(`supersede (${label}): A of ${session} ended before its first token; left out`);
        continue;
      }
      const b = await timedStream(targetB, `id=B${run}-${round}-${i} n=3`, { session });
      await a;
      const recordA = await closedRecord(control, promptA);
      close.push(recordA.closedAt! - b.sentAtEpoch);
      first.push(b.firstTokenAtEpoch - b.sentAtEpoch);
    }
    allClose.push(...close);
    allFirst.push(...first);
    perRoundFigures.closeP50.push(percentile(close, 50));
    perRoundFigures.closeP99.push(percentile(close, 99));
    perRoundFigures.firstP50.push(percentile(first, 50));
    perRoundFigures.firstP99.push(percentile(first, 99));
  }
  return {
    upstream: label,
    supersedes: rounds * perRound - failed,
    closeP50Ms: spread(perRoundFigures.closeP50),
    closeP99Ms: spread(perRoundFigures.closeP99),
    firstTokenP50Ms: spread(perRoundFigures.firstP50),
    firstTokenP99Ms: spread(perRoundFigures.firstP99),
    failed,
    closeSamplesMs: allClose,
    firstTokenSamplesMs: allFirst,
  };
}
