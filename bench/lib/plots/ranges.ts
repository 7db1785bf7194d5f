// The range chart: per path, each figure's median over the rounds as a marker, its range over the
// rounds (min–max) as a whisker. Throughput and time to first token (docs/benchmark.md "Plots").

import { PAD, SHAPES, heading, legend, marker, notes, say, xAxis } from './layout.js';
import { chartWidth, layRows, type LabelledRow } from './rows.js';
import { autoScale } from './scales.js';
import { MUTED, PALETTE, line, svgDocument, text } from './svg.js';

export interface RangeValue {
  median: number;
  lo: number;
  hi: number;
}

export interface RangeRow extends LabelledRow {
  /** One per series (undefined: this path has none of that figure). */
  values: Array<RangeValue | undefined>;
}

export interface RangeChartSpec {
  id: string;
  title: string;
  subtitle?: string;
  /** The value axis's title, with its unit. */
  axis: string;
  /** The unit in words, for the description and the value labels. */
  unit: string;
  series: string[];
  rows: RangeRow[];
  notes?: string[];
  /** Start the axis at zero (rates); false lets a logarithmic axis be chosen for wide spans. */
  fromZero?: boolean;
}

const finite = (v: RangeValue | undefined): v is RangeValue => v !== undefined && [v.median, v.lo, v.hi].every(Number.isFinite);

export function rangeChart(spec: RangeChartSpec): string {
  const width = chartWidth(spec.rows);
  const head = heading(width, spec.title, spec.subtitle);
  const items = spec.series.map((name, i) => ({ label: name, color: PALETTE[i % PALETTE.length]!, shape: SHAPES[i % SHAPES.length]! }));
  const leg = legend(items, PAD, head.height, width - 2 * PAD);
  const top = head.height + leg.height + 10;
  const perSeries = 14;
  const rowHeight = 12 + perSeries * spec.series.length;
  const rows = layRows(spec.rows, top, rowHeight);
  const right = width - PAD - 78;
  const values = spec.rows.flatMap((r) => r.values.filter(finite).flatMap((v) => [v.lo, v.hi, v.median]));
  const scale = autoScale(values, [rows.left, right], spec.fromZero ?? true);
  const bottom = top + rows.height + 4;
  const axis = xAxis(scale, top, bottom, spec.axis, (rows.left + right) / 2);
  const body = [...head.svg, ...leg.svg, ...axis.svg, ...rows.svg];
  const described: string[] = [];
  for (const slot of rows.slots) {
    const row = spec.rows[slot.index]!;
    const said: string[] = [];
    row.values.forEach((v, s) => {
      const y = slot.y - ((spec.series.length - 1) * perSeries) / 2 + s * perSeries;
      if (!finite(v)) return;
      const color = PALETTE[s % PALETTE.length]!;
      const [x0, x1, xm] = [scale(v.lo), scale(v.hi), scale(v.median)];
      if (x1 - x0 > 0.5) {
        body.push(line(x0, y, x1, y, color, 1.5), line(x0, y - 4, x0, y + 4, color, 1.5), line(x1, y - 4, x1, y + 4, color, 1.5));
      }
      body.push(marker(SHAPES[s % SHAPES.length]!, xm, y, color));
      body.push(text(Math.max(x1, xm + 5) + 6, y + 4, say(v.median), { size: 10, fill: MUTED }));
      said.push(`${spec.series[s]} ${say(v.median, spec.unit)}${v.hi > v.lo ? ` (${say(v.lo)}–${say(v.hi)})` : ''}`);
    });
    described.push(`${row.group ? `${row.group}, ` : ''}${row.label}: ${said.length ? said.join(', ') : 'no figure'}`);
  }
  const foot = notes(['Marker: the median over the rounds; whisker: the range over the rounds (min–max).', ...(spec.notes ?? [])], PAD, bottom + axis.height, width - 2 * PAD);
  body.push(...foot.svg);
  const desc = `${spec.title}. ${spec.subtitle ? `${spec.subtitle} ` : ''}${spec.axis}${scale.log ? ', logarithmic axis' : ''}. ${described.join('. ')}.`;
  return svgDocument({ id: spec.id, title: spec.title, desc, width, height: bottom + axis.height + foot.height + PAD, body });
}
