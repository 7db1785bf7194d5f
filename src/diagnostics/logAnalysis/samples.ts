import type { LineRef } from '../../shared/lifecycle.js';

/** One piece of evidence: what was seen, and the log line(s) that show it. */
export interface Evidence {
  text: string;
  trace?: string;
  session?: string;
  lines?: string[];
  /**
   * Where each of `lines` is (same order), when the walk was given line numbers
   * (`jarvis diagnose --html` links a finding to its lines); absent otherwise.
   */
  refs?: Array<LineRef | undefined>;
  /** Every stream it is about, when more than `trace` (a dead instance's lost streams). */
  streams?: string[];
}

/** `refs` only when a walk numbers its lines: the text report's JSON stays as it was. */
export function withRefs(evidence: Evidence, ...refs: Array<LineRef | undefined>): Evidence {
  if (refs.some((r) => r !== undefined)) evidence.refs = refs;
  return evidence;
}

/**
 * A count plus the first few examples: a log with a million orphans must not
 * hold a million of them, and an operator needs only a handful to grep for.
 */
export class Samples {
  count = 0;
  readonly items: Evidence[] = [];

  constructor(private readonly limit = 5) {}

  add(evidence: Evidence): void {
    this.count++;
    if (this.items.length >= this.limit) return;
    if (evidence.refs?.every((r) => r === undefined)) delete evidence.refs;
    this.items.push(evidence);
  }
}

/** The n largest values seen, with their evidence (n is small: a sorted insert is enough). */
export class TopK {
  readonly items: Array<{ value: number; evidence: Evidence }> = [];

  constructor(private readonly limit = 5) {}

  add(value: number, evidence: () => Evidence): void {
    const last = this.items[this.limit - 1];
    if (this.items.length >= this.limit && last && value <= last.value) return;
    this.items.push({ value, evidence: evidence() });
    this.items.sort((a, b) => b.value - a.value);
    if (this.items.length > this.limit) this.items.pop();
  }
}
