// The capacity section's charts (docs/benchmark.md "Plots"): added inter-token delay p99 and live
// RSS against the number of paced streams, a line per path, every step measured (a step measured
// twice shows its second window, the one that counted).

import type { CapacityResult, CapacityRow } from '../../sections/capacity/section.js';
import { LIMITS } from '../../sections/capacity/verdict.js';
import { lineChart } from './lines.js';

export interface CapacityPlot {
  file: string;
  title: string;
  svg: string;
}

const points = (row: CapacityRow, pick: (a: CapacityRow['steps'][number]['attempts'][number]) => number): Array<[number, number]> =>
  row.steps.map((s): [number, number] => [s.streams, pick(s.attempts.at(-1)!)]).filter(([, y]) => Number.isFinite(y));

function subtitle(r: CapacityResult, run: string): string {
  return `Streams at ${1000 / r.paceMs} tokens/s each, own sessions, added step by step; each step measured for ${r.windowMs.toLocaleString('en')} ms; ${r.keepGoing ? 'every step measured, past a path’s first failure too' : 'a path stops at its first confirmed failing step'}. ${run}`;
}

export function capacityPlot(r: CapacityResult | undefined, run: string): CapacityPlot | undefined {
  if (!r?.rows.length) return undefined;
  const title = 'Added inter-token delay p99 against paced streams';
  const svg = lineChart({
    id: 'capacity',
    title,
    subtitle: subtitle(r, run),
    xAxis: 'concurrent paced streams',
    yAxis: 'added inter-token p99 (ms)',
    xUnit: 'streams',
    yUnit: 'ms',
    xLog: true,
    series: r.rows.map((row, i) => ({ name: `${row.path}: ${row.capacity.toLocaleString('en')}`, color: i, points: points(row, (a) => a.addedP99Ms) })),
    notes: [`Capacity (in the legend): the last step with added p99 ≤ ${LIMITS.addedP99Ms} ms and /health p99 ≤ ${LIMITS.healthP99Ms} ms.`],
  });
  return { file: 'capacity.svg', title, svg };
}

export function capacityMemoryPlot(r: CapacityResult | undefined, run: string): CapacityPlot | undefined {
  const rows = r?.rows.filter((row) => row.steps.some((s) => Number.isFinite(s.attempts.at(-1)!.rssMB)));
  if (!r || !rows?.length) return undefined;
  const title = 'Live memory against paced streams';
  const svg = lineChart({
    id: 'capacity-memory',
    title,
    subtitle: `${subtitle(r, run)} RSS after a full GC, the path's processes together.`,
    xAxis: 'concurrent paced streams',
    yAxis: 'live RSS (MB)',
    xUnit: 'streams',
    yUnit: 'MB',
    xLog: true,
    series: rows.map((row) => ({ name: row.path, color: r.rows.indexOf(row), points: points(row, (a) => a.rssMB) })),
  });
  return { file: 'capacity-memory.svg', title, svg };
}
