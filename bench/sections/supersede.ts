import { timedStream, type Target } from '../lib/client.js';
import { percentile } from '../lib/stats.js';
import { closedRecord } from '../lib/records.js';

export interface SupersedeRow {
  upstream: string;
  supersedes: number;
  /** B's request → A's upstream request closed. */
  closeP50Ms: number;
  closeP99Ms: number;
  /** B's request → B's first token. */
  firstTokenP50Ms: number;
  firstTokenP99Ms: number;
}

/**
 * On one session, A streams (50 tokens/s); then B arrives. Measures how soon A's
 * upstream request is closed and how soon B's first token arrives, from B's request.
 */
export async function supersede(target: Target, control: string, count: number, label: string, ignoreAbort = false): Promise<SupersedeRow> {
  const close: number[] = [];
  const first: number[] = [];
  const run = Math.random().toString(36).slice(2, 8);
  for (let i = 0; i < count; i++) {
    const session = `sup-${run}-${i}`;
    const promptA = `id=A${run}${i} n=100000 ms=20${ignoreAbort ? ' ignore' : ''}`;
    let firstTokenA!: () => void;
    const aStarted = new Promise<void>((resolve) => (firstTokenA = resolve));
    const a = timedStream(target, promptA, { session, onFirstToken: () => firstTokenA() });
    await aStarted;
    const b = await timedStream(target, `id=B${run}${i} n=3`, { session });
    await a;
    const recordA = await closedRecord(control, promptA);
    close.push(recordA.closedAt! - b.sentAtEpoch);
    first.push(b.firstTokenAtEpoch - b.sentAtEpoch);
  }
  return {
    upstream: label,
    supersedes: count,
    closeP50Ms: percentile(close, 50),
    closeP99Ms: percentile(close, 99),
    firstTokenP50Ms: percentile(first, 50),
    firstTokenP99Ms: percentile(first, 99),
  };
}
