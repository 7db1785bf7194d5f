/**
 * Percentiles in constant memory: values are counted in buckets (exact below
 * 1000, three significant digits above), so a million samples cost a few
 * thousand map entries at most and p50/p99 are within 0.5 % of the truth.
 */
export class Distribution {
  private readonly buckets = new Map<number, number>();
  count = 0;
  sum = 0;
  max = 0;

  add(value: number): void {
    if (!Number.isFinite(value) || value < 0) return;
    const key = bucketOf(value);
    this.buckets.set(key, (this.buckets.get(key) ?? 0) + 1);
    this.count++;
    this.sum += value;
    if (value > this.max) this.max = value;
  }

  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (const key of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(key) ?? 0;
      if (seen >= rank) return Math.min(key, this.max);
    }
    return this.max;
  }

  summary(): DistributionSummary | undefined {
    if (this.count === 0) return undefined;
    return { count: this.count, p50: this.quantile(0.5) ?? 0, p99: this.quantile(0.99) ?? 0, max: this.max };
  }
}

export interface DistributionSummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

function bucketOf(value: number): number {
  if (value < 1000) return Math.round(value);
  const step = 10 ** (Math.floor(Math.log10(value)) - 2);
  return Math.round(value / step) * step;
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms >= 2 * 86_400_000) return `${Math.round(ms / 86_400_000)} d`;
  if (ms >= 2 * 3_600_000) return `${Math.round(ms / 3_600_000)} h`;
  if (ms >= 120_000) return `${Math.round(ms / 60_000)} min`;
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

export function describeDistribution(d: DistributionSummary | undefined): string {
  return d ? `n=${d.count} p50=${formatMs(d.p50)} p99=${formatMs(d.p99)} max=${formatMs(d.max)}` : 'none';
}
