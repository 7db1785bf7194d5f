import { formatMs } from '../logAnalysis/distribution.js';
import type { Section } from './report.js';

/** Log lines older than this are "old": a problem they show may have been fixed since. */
export const OLD_AFTER_MS = 3_600_000;

/**
 * When every problem found is shown only by old log lines (a log kept for days
 * holds last week's failures), how to look at recent lines only: `--since`, with
 * a time just after the newest of those lines. Undefined when any problem is
 * recent, or has no log line to date it (a live probe, a missing file): then the
 * findings are about now. docs/operations.md describes `--since`.
 */
export function sinceHint(sections: Section[], nowMs: number): string | undefined {
  const problems = sections.flatMap((s) => s.checks).filter((c) => c.status === 'problem');
  if (problems.length === 0) return undefined;
  let newestMs = -Infinity;
  for (const check of problems) {
    const times = check.evidence.flatMap((e) => e.lines ?? []).map(timeOf).filter((ms) => !Number.isNaN(ms));
    if (times.length === 0) return undefined;
    newestMs = Math.max(newestMs, ...times);
  }
  if (nowMs - newestMs < OLD_AFTER_MS) return undefined;
  const after = new Date(newestMs + 1).toISOString();
  return (
    `every problem above is shown by log lines ${formatMs(nowMs - newestMs)} old or older (the newest at ${new Date(newestMs).toISOString()}): it may be fixed since. ` +
    `To look at recent lines only: jarvis diagnose --since ${after} (or a duration back from now: --since 15m, 2h, 1d).`
  );
}

/** A log line's time: its first word. */
function timeOf(raw: string): number {
  return Date.parse(raw.slice(0, raw.indexOf(' ')));
}
