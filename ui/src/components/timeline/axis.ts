import { clock } from './outcomes.js';

const DAY_MS = 86_400_000;
const STEPS = [100, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, DAY_MS, 2 * DAY_MS, 7 * DAY_MS];
/** About what a label needs, so that two never overlap. */
const LABEL_PX = 90;

/** The time axis's step and ticks over [from, to] drawn `width` px wide: from 100 ms (a supersede) to days (a report of a week's log). */
export function axisTicks(from: number, to: number, width: number): { step: number; ticks: number[] } {
  const span = Math.max(1, to - from);
  const step = STEPS.find((s) => (s / span) * width >= LABEL_PX) ?? Math.ceil(((span / width) * LABEL_PX) / DAY_MS) * DAY_MS;
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to && ticks.length < 200; t += step) ticks.push(t);
  return { step, ticks };
}

/** As precise as the step: milliseconds under a second, minutes from a minute, the date once steps are days. */
export function tickLabel(t: number, step: number): string {
  if (step >= DAY_MS) {
    const d = new Date(t);
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  }
  const full = clock(t, step < 1000);
  return step >= 60_000 ? full.slice(0, 5) : full;
}
