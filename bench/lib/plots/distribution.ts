// The distribution chart: per path, every sample as a dot (a strip), over a box from p25 to p75 with
// the median marked and whiskers from p5 to p95. Stop and supersede latencies (docs/benchmark.md "Plots").

import { percentile } from '../stats.js';
import { PAD, heading, legend, notes, say, xAxis, type LegendItem } from './layout.js';
import { chartWidth, layRows, type LabelledRow } from './rows.js';
import { autoScale } from './scales.js';
import { INK, MUTED, PALETTE, circle, line, rect, svgDocument, text } from './svg.js';

export interface DistributionRow extends LabelledRow {
  samples: number[];
}

export interface DistributionChartSpec {
  id: string;
  title: string;
  subtitle?: string;
  axis: string;
  unit: string;
  /** What one sample is, for the legend ("one stop"). */
  sample: string;
  rows: DistributionRow[];
  notes?: string[];
}

/** A fixed jitter per sample (a chart drawn twice from one run is the same file). */
const jitter = (i: number) => (((i * 2654435761) >>> 0) % 1000) / 1000 - 0.5;

const BOX = 12;
/** The box above, the dots in a band of their own below it: 200 dots over a box would hide it. */
const BOX_DY = -7;
const DOTS_DY = 9;

function boxGlyph(x: number, y: number, color: string, w = 36): string {
  return [line(x, y, x + w, y, color, 1.2), rect(x + w * 0.25, y - BOX / 2, w * 0.5, BOX, `fill="${color}" fill-opacity="0.18" stroke="${color}" stroke-width="1.2"`), line(x + w * 0.45, y - BOX / 2, x + w * 0.45, y + BOX / 2, INK, 2.5)].join('');
}

export function distributionChart(spec: DistributionChartSpec): string {
  const labelled = spec.rows.map((r) => ({ ...r, label: `${r.label} (n=${r.samples.filter(Number.isFinite).length})` }));
  const width = chartWidth(labelled);
  const head = heading(width, spec.title, spec.subtitle);
  const items: LegendItem[] = [
    { label: 'box: p25–p75, dark line: median, whiskers: p5–p95', glyph: { svg: (x, y) => boxGlyph(x, y, MUTED), width: 36 } },
    { label: spec.sample, glyph: { svg: (x, y) => circle(x + 6, y, 2.5, `fill="${MUTED}" fill-opacity="0.6"`), width: 12 } },
  ];
  const leg = legend(items, PAD, head.height, width - 2 * PAD);
  const top = head.height + leg.height + 10;
  const rowHeight = 40;
  const rows = layRows(labelled, top, rowHeight);
  const right = width - PAD - 78;
  const all = spec.rows.flatMap((r) => r.samples.filter(Number.isFinite));
  const scale = autoScale(all, [rows.left, right], true);
  const bottom = top + rows.height + 4;
  const axis = xAxis(scale, top, bottom, spec.axis, (rows.left + right) / 2);
  const body = [...head.svg, ...leg.svg, ...axis.svg, ...rows.svg];
  const described: string[] = [];
  for (const slot of rows.slots) {
    const row = spec.rows[slot.index]!;
    const samples = row.samples.filter(Number.isFinite);
    const groupIndex = row.group === undefined ? 0 : rows.groups.indexOf(row.group);
    const color = PALETTE[Math.max(0, groupIndex) % PALETTE.length]!;
    const y = slot.y + BOX_DY;
    const dotsY = slot.y + DOTS_DY;
    if (samples.length === 0) {
      body.push(text(rows.left + 4, slot.y + 4, 'no samples', { size: 11, fill: MUTED }));
      described.push(`${row.label}: no samples`);
      continue;
    }
    const [p5, p25, p50, p75, p95] = [5, 25, 50, 75, 95].map((p) => percentile(samples, p)) as [number, number, number, number, number];
    const max = Math.max(...samples);
    body.push(line(scale(p5), y, scale(p95), y, color, 1.2));
    body.push(line(scale(p5), y - 5, scale(p5), y + 5, color, 1.2), line(scale(p95), y - 5, scale(p95), y + 5, color, 1.2));
    body.push(rect(scale(p25), y - BOX / 2, scale(p75) - scale(p25), BOX, `fill="${color}" fill-opacity="0.18" stroke="${color}" stroke-width="1.2"`));
    // Light dots, so that where they crowd they darken.
    body.push(`<g fill="${color}" fill-opacity="0.45">`, ...samples.map((v, i) => circle(scale(v), dotsY + jitter(i) * 9, 2, '')), '</g>');
    body.push(line(scale(p50), y - BOX / 2 - 2, scale(p50), y + BOX / 2 + 2, INK, 2.5));
    body.push(text(scale(max) + 8, slot.y + 4, `p50 ${say(p50)}`, { size: 10, fill: MUTED }));
    described.push(
      `${row.group ? `${row.group}, ` : ''}${row.label}: ${samples.length} samples, median ${say(p50, spec.unit)}, p25–p75 ${say(p25)}–${say(p75)}, p5–p95 ${say(p5)}–${say(p95)}, max ${say(max)}`,
    );
  }
  const foot = notes(spec.notes, PAD, bottom + axis.height, width - 2 * PAD);
  body.push(...foot.svg);
  const desc = `${spec.title}. ${spec.subtitle ? `${spec.subtitle} ` : ''}${spec.axis}${scale.log ? ', logarithmic axis' : ''}. ${described.join('. ')}.`;
  return svgDocument({ id: spec.id, title: spec.title, desc, width, height: bottom + axis.height + foot.height + PAD, body });
}
