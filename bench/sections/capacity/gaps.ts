// The capacity section's client-side measure (docs/benchmark.md "Capacity"): how late each token
// comes, as the client sees it. Pure and allocation-free per chunk, so that the bench's own
// client holds thousands of streams without becoming what is measured: tokens are found by
// counting a marker in the raw bytes (no JSON parse), and the gaps go into a fixed histogram
// (no array that grows with the tokens).

/** Counts `marker` in a stream's bytes, chunk by chunk, a marker split across two chunks included. */
export class MarkerCounter {
  private readonly marker: Buffer;
  /** The end of the previous chunk that could start a marker (marker length − 1 bytes). */
  private tail: Buffer = Buffer.alloc(0);

  constructor(marker: string) {
    if (marker.length === 0) throw new Error('MarkerCounter: empty marker');
    this.marker = Buffer.from(marker, 'latin1');
  }

  /** The markers that end in this chunk. */
  count(chunk: Buffer): number {
    const m = this.marker;
    let n = 0;
    // A marker that began in the previous chunk: searched in its tail joined to this chunk's start.
    if (this.tail.length > 0) {
      const seam = Buffer.concat([this.tail, chunk.subarray(0, m.length - 1)]);
      if (seam.indexOf(m) >= 0) n++;
    }
    for (let at = chunk.indexOf(m); at >= 0; at = chunk.indexOf(m, at + m.length)) n++;
    // The stream's last marker length − 1 bytes (across chunks shorter than that too).
    const keep = m.length - 1;
    this.tail = chunk.length >= keep ? Buffer.from(chunk.subarray(chunk.length - keep)) : Buffer.concat([this.tail, chunk]).subarray(-keep);
    return n;
  }
}

/** Added delay from −LOW_MS to HIGH_MS in steps of RESOLUTION_MS; later ones go to the last bucket. */
export const GAP_RESOLUTION_MS = 0.1;
const LOW_MS = 100;
const HIGH_MS = 5000;
const BUCKETS = Math.round((LOW_MS + HIGH_MS) / GAP_RESOLUTION_MS) + 1;

/**
 * Added inter-token delay (the gap between two tokens less the upstream's pace), as counts in
 * buckets of 0.1 ms: a percentile is exact to the bucket, and two clients' histograms merge by addition.
 */
export class GapHistogram {
  readonly counts: Uint32Array;

  constructor(counts?: ArrayLike<number>) {
    this.counts = new Uint32Array(BUCKETS);
    if (counts) this.counts.set(counts);
  }

  record(addedMs: number): void {
    const i = Math.round((addedMs + LOW_MS) / GAP_RESOLUTION_MS);
    this.counts[i < 0 ? 0 : i >= BUCKETS ? BUCKETS - 1 : i]!++;
  }

  get total(): number {
    let n = 0;
    for (const c of this.counts) n += c;
    return n;
  }

  merge(other: GapHistogram | ArrayLike<number>): this {
    const counts = other instanceof GapHistogram ? other.counts : other;
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += counts[i] ?? 0;
    return this;
  }

  /** Nearest-rank percentile (p in 0–100), as bench/lib/stats.ts's `percentile` takes it; NaN for none. */
  percentile(p: number): number {
    const total = this.total;
    if (total === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.round((i * GAP_RESOLUTION_MS - LOW_MS) * 10) / 10;
    }
    return HIGH_MS;
  }

  reset(): void {
    this.counts.fill(0);
  }
}

/**
 * One stream's tokens, timed: `arrived(now, k)` for a chunk holding k tokens records the gap
 * since the previous token, less the pace, and a gap of 0 (less the pace) for each further token
 * of the same chunk (they came together). The first token has no gap.
 */
export class StreamGaps {
  private last = NaN;
  tokens = 0;

  constructor(
    private readonly paceMs: number,
    private readonly histogram: GapHistogram,
  ) {}

  arrived(now: number, k: number, measuring: boolean): void {
    if (k <= 0) return;
    this.tokens += k;
    if (measuring) {
      if (!Number.isNaN(this.last)) this.histogram.record(now - this.last - this.paceMs);
      for (let i = 1; i < k; i++) this.histogram.record(-this.paceMs);
    }
    this.last = now;
  }
}
