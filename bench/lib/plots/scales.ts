// Axes for the bench's charts: linear with round ticks (1, 2, 5 × 10^k), or logarithmic when the
// figures span more than a factor of 30 (Portkey's 25 ms first-chunk wait beside 1 ms paths would
// otherwise squash every other path against the axis).

export interface Scale {
  (v: number): number;
  ticks: number[];
  log: boolean;
  /** The domain, widened to round ticks. */
  domain: [number, number];
}

const STEPS = [1, 2, 5];

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const s of STEPS) if (s * pow >= raw) return s * pow;
  return 10 * pow;
}

/** Drops floating-point noise from a tick (0.30000000000000004 → 0.3). */
const clean = (v: number) => Number(v.toPrecision(12));

export function linearScale(lo: number, hi: number, range: [number, number], tickCount = 6): Scale {
  if (!(hi > lo)) {
    // One value (or none): a domain around it, so a lone point still sits inside the axis.
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.5;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const step = niceStep(hi - lo, tickCount);
  const d0 = Math.floor(lo / step) * step;
  const d1 = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let t = d0; t <= d1 + step / 2; t += step) ticks.push(clean(t));
  const f = ((v: number) => range[0] + ((v - d0) / (d1 - d0)) * (range[1] - range[0])) as Scale;
  f.ticks = ticks;
  f.log = false;
  f.domain = [d0, d1];
  return f;
}

export function logScale(lo: number, hi: number, range: [number, number]): Scale {
  // The domain from the 1-2-5 value at or below lo to the one at or above hi.
  const below = (v: number) => {
    const pow = 10 ** Math.floor(Math.log10(v));
    return clean(([5, 2, 1].find((m) => m * pow <= v * (1 + 1e-9)) ?? 1) * pow);
  };
  const above = (v: number) => {
    const pow = 10 ** Math.floor(Math.log10(v));
    return clean(([1, 2, 5, 10].find((m) => m * pow >= v * (1 - 1e-9)) ?? 10) * pow);
  };
  const d0 = below(lo);
  const d1 = Math.max(above(hi), d0 * 2);
  const [l0, l1] = [Math.log10(d0), Math.log10(d1)];
  // 1-2-5 ticks over a few decades; only the powers of ten over many.
  const mults = l1 - l0 <= 3.5 ? STEPS : [1];
  const ticks: number[] = [];
  for (let e = Math.floor(l0); e <= Math.ceil(l1); e++) {
    for (const m of mults) {
      const t = clean(m * 10 ** e);
      if (t >= d0 && t <= d1) ticks.push(t);
    }
  }
  // The axis's ends are labelled too (2,000 at the end of an axis of powers of ten).
  for (const end of [d0, d1]) if (!ticks.includes(end)) ticks.push(end);
  ticks.sort((a, b) => a - b);
  const f = ((v: number) => range[0] + ((Math.log10(Math.min(Math.max(v, d0), d1)) - l0) / (l1 - l0)) * (range[1] - range[0])) as Scale;
  f.ticks = ticks;
  f.log = true;
  f.domain = [d0, d1];
  return f;
}

/** Linear from zero (or from the data's minimum, `fromZero` false); logarithmic over a wide positive span. */
export function autoScale(values: number[], range: [number, number], fromZero = true): Scale {
  const v = values.filter(Number.isFinite);
  if (v.length === 0) return linearScale(0, 1, range);
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  if (lo > 0 && hi / lo > 30) return logScale(lo, hi, range);
  return linearScale(fromZero ? Math.min(0, lo) : lo, hi, range);
}

/** A tick's label: 150k, 1,000, 2.5, 0.05; in thousands (k) all along an axis that reaches 10,000. */
export function formatTick(v: number, ticks: number[] = [v]): string {
  if (Math.max(...ticks.map(Math.abs)) >= 10_000 && v !== 0) return `${clean(v / 1000).toLocaleString('en')}k`;
  return clean(v).toLocaleString('en', { maximumFractionDigits: 3 });
}
