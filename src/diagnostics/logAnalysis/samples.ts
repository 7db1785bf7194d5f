/** One piece of evidence: what was seen, and the log line(s) that show it. */
export interface Evidence {
  text: string;
  trace?: string;
  session?: string;
  lines?: string[];
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
    if (this.items.length < this.limit) this.items.push(evidence);
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
