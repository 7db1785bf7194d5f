/** Exact nearest-rank percentile (p in 0–100) of a sample; NaN for none. For the sub-millisecond
 * figures of the benchmark and tests (diagnose's Distribution buckets to whole milliseconds). */
export function percentile(values: number[], p: number): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
