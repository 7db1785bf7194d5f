// The line chart: a line per path over a numeric x (memory per stream against the number of streams
// open). Every point is also marked, so a path measured at one level still shows (docs/benchmark.md "Plots").

import { PAD, SHAPES, heading, legend, marker, notes, say, xAxis } from './layout.js';
import { autoScale, formatTick, linearScale, logScale } from './scales.js';
import { GRID, MUTED, PALETTE, n, svgDocument, text, textWidth } from './svg.js';

export interface LineSeries {
  name: string;
  points: Array<[number, number]>;
  /** Series of one path share a colour (by default each series has its own) and differ by marker. */
  color?: number;
  shape?: number;
}

export interface LineChartSpec {
  id: string;
  title: string;
  subtitle?: string;
  xAxis: string;
  yAxis: string;
  xUnit: string;
  yUnit: string;
  series: LineSeries[];
  notes?: string[];
  /** A logarithmic x axis (stream counts that double from step to step). */
  xLog?: boolean;
}

const ok = ([x, y]: [number, number]) => Number.isFinite(x) && Number.isFinite(y);

export function lineChart(spec: LineChartSpec): string {
  const width = 800;
  const head = heading(width, spec.title, spec.subtitle);
  const colorOf = (i: number) => PALETTE[(spec.series[i]!.color ?? i) % PALETTE.length]!;
  const shapeOf = (i: number) => SHAPES[(spec.series[i]!.shape ?? i) % SHAPES.length]!;
  const items = spec.series.map((s, i) => ({ label: s.name, color: colorOf(i), shape: shapeOf(i), line: true }));
  const leg = legend(items, PAD, head.height, width - 2 * PAD);
  const top = head.height + leg.height + 14;
  const plotHeight = 300;
  const bottom = top + plotHeight;
  const points = spec.series.map((s) => s.points.filter(ok).sort((a, b) => a[0] - b[0]));
  const xs = points.flat().map(([x]) => x);
  const ys = points.flat().map(([, y]) => y);
  const y = linearScale(Math.min(0, ...ys), ys.length ? Math.max(...ys) : 1, [bottom, top], 5);
  const tickWidth = Math.max(...y.ticks.map((t) => textWidth(formatTick(t, y.ticks), 11)));
  const left = PAD + 20 + tickWidth + 10;
  const right = width - PAD - 20;
  const x = spec.xLog && xs.length && Math.min(...xs) > 0 ? logScale(Math.min(...xs), Math.max(...xs), [left, right]) : autoScale(xs.length ? [0, ...xs] : [], [left, right], true);
  const axis = xAxis(x, top, bottom, spec.xAxis, (left + right) / 2);
  const body = [...head.svg, ...leg.svg, ...axis.svg];
  for (const t of y.ticks) {
    body.push(`<line x1="${n(left)}" y1="${n(y(t))}" x2="${n(right)}" y2="${n(y(t))}" stroke="${GRID}" stroke-width="1"/>`);
    body.push(text(left - 6, y(t) + 4, formatTick(t, y.ticks), { size: 11, anchor: 'end', fill: MUTED }));
  }
  body.push(text(PAD + 8, (top + bottom) / 2, spec.yAxis, { size: 12, anchor: 'middle', rotate: -90 }));
  const described: string[] = [];
  // Value labels at the lines' ends, each left out where it would overlap one already placed.
  const placed: Array<[number, number]> = [];
  points.forEach((pts, i) => {
    const color = colorOf(i);
    const name = spec.series[i]!.name;
    if (pts.length === 0) {
      described.push(`${name}: no points`);
      return;
    }
    if (pts.length > 1) body.push(`<polyline points="${pts.map(([px, py]) => `${n(x(px))},${n(y(py))}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const [px, py] of pts) body.push(marker(shapeOf(i), x(px), y(py), color));
    const [lx, ly] = pts.at(-1)!;
    const [tx, ty] = [Math.min(x(lx) + 8, right - 30), y(ly) - 8];
    if (!placed.some(([ox, oy]) => Math.abs(ox - tx) < 36 && Math.abs(oy - ty) < 12)) {
      placed.push([tx, ty]);
      body.push(text(tx, ty, say(ly), { size: 10, fill: MUTED }));
    }
    described.push(`${name}: ${pts.map(([px, py]) => `${say(py, spec.yUnit)} at ${say(px, spec.xUnit)}`).join(', ')}`);
  });
  const foot = notes(spec.notes, PAD, bottom + axis.height, width - 2 * PAD);
  body.push(...foot.svg);
  const desc = `${spec.title}. ${spec.subtitle ? `${spec.subtitle} ` : ''}${spec.yAxis} against ${spec.xAxis}. ${described.join('. ')}.`;
  return svgDocument({ id: spec.id, title: spec.title, desc, width, height: bottom + axis.height + foot.height + PAD, body });
}
