// The bench's charts, drawn from the same records its tables are (bench/run.ts's `results`, also
// what bench/results/*.json holds), written as SVG files beside the tables (docs/benchmark.md "Plots").

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CapacityResult } from '../../sections/capacity/section.js';
import type { ClusterResult } from '../../sections/cluster.js';
import type { ScaleRow } from '../../sections/scale.js';
import type { StopRow } from '../../sections/stop.js';
import type { SupersedeRow } from '../../sections/supersede.js';
import type { ThroughputRow } from '../../sections/throughput.js';
import type { TtftRow } from '../../sections/ttft.js';
import type { Spread } from '../stats.js';
import { capacityMemoryPlot, capacityPlot } from './capacity.js';
import { distributionChart, type DistributionRow } from './distribution.js';
import { lineChart } from './lines.js';
import { rangeChart, type RangeRow, type RangeValue } from './ranges.js';

/** The parts of a run's results the charts draw (every part optional: `--only` runs some sections). */
export interface BenchResults {
  machine?: { cores?: number; node?: string; loadAverage1m?: number; date?: string };
  quick?: boolean;
  throughput?: { unthrottled?: ThroughputRow[] };
  ttft?: TtftRow[];
  supersede?: SupersedeRow[];
  stop?: StopRow[];
  cluster?: Partial<ClusterResult>;
  scale?: ScaleRow[];
  capacity?: CapacityResult;
}

export interface Plot {
  file: string;
  title: string;
  svg: string;
}

const range = (s: Spread | undefined): RangeValue | undefined => (s && s.rounds > 0 ? { median: s.median, lo: s.min, hi: s.max } : undefined);

/** "direct (Ollama NDJSON)" → "Ollama NDJSON upstream": the paths to one upstream under one heading. */
function upstreamGroup(row: { target: string; baseline?: string | undefined }): string {
  const direct = row.baseline ?? row.target;
  const inner = /\(([^)]+)\)/.exec(direct)?.[1];
  return inner ? `${inner} upstream` : direct;
}

function runLine(r: BenchResults): string {
  const m = r.machine ?? {};
  const parts = [r.quick ? 'quick run' : 'run', m.date ? `${m.date.slice(0, 16).replace('T', ' ')} UTC` : '', m.cores ? `${m.cores} cores` : '', m.node ? `Node ${m.node.replace(/^v/, '')}` : '', m.loadAverage1m !== undefined ? `load average ${m.loadAverage1m}` : ''];
  return `The ${parts.filter(Boolean).join(', ')}.`;
}

export function throughputPlot(r: BenchResults): Plot | undefined {
  const rows = r.throughput?.unthrottled;
  if (!rows?.length) return undefined;
  const title = 'Throughput per path: one long stream, upstream unthrottled';
  const first = rows[0]!;
  const svg = rangeChart({
    id: 'throughput',
    title,
    subtitle: `${first.tokens.toLocaleString('en')} tokens per stream, ${first.tokensPerSecond.rounds} rounds, read by curl. ${runLine(r)}`,
    axis: 'throughput (tokens per second)',
    unit: 'tokens/s',
    series: ['tokens per second'],
    rows: rows.map((row): RangeRow => ({ label: row.target, group: upstreamGroup(row), values: [range(row.tokensPerSecond)] })),
  });
  return { file: 'throughput.svg', title, svg };
}

export function ttftPlot(r: BenchResults): Plot | undefined {
  if (!r.ttft?.length) return undefined;
  const title = 'Time to first token per path';
  const first = r.ttft[0]!;
  const svg = rangeChart({
    id: 'ttft',
    title,
    subtitle: `3-token replies, one request at a time, ${first.requests} per path over ${first.p50Ms.rounds} rounds; per round its p50 and p99. ${runLine(r)}`,
    axis: 'time to first token (ms)',
    unit: 'ms',
    series: ['p50', 'p99'],
    rows: r.ttft.map((row): RangeRow => ({ label: row.target, group: upstreamGroup(row), values: [range(row.p50Ms), range(row.p99Ms)] })),
    fromZero: false,
  });
  return { file: 'ttft.svg', title, svg };
}

const hasSamples = (rows: Array<{ samples: number[] }>) => rows.some((x) => x.samples.length > 0);

export function supersedePlot(r: BenchResults): Plot | undefined {
  const rows = [...(r.supersede ?? []), ...(r.cluster?.supersede ?? [])];
  if (rows.length === 0) return undefined;
  const title = 'Supersede: B arrives on A’s session';
  const subtitle = `A streams at 50 tokens/s, then B arrives on the same session; timed from B’s request. ${runLine(r)}`;
  const close = "B's request → A's upstream request closed";
  const first = "B's request → B's first token";
  // The cluster section's rows under their own headings: another set-up than the supersede section's.
  const own = r.supersede ?? [];
  const cluster = r.cluster?.supersede ?? [];
  const groups: Array<[string, SupersedeRow[], 'close' | 'first']> = [
    [close, own, 'close'],
    [`${close}, cluster section`, cluster, 'close'],
    [first, own, 'first'],
    [`${first}, cluster section`, cluster, 'first'],
  ];
  const dist: DistributionRow[] = groups.flatMap(([group, xs, which]) => xs.map((x) => ({ label: x.upstream, group, samples: (which === 'close' ? x.closeSamplesMs : x.firstTokenSamplesMs) ?? [] })));
  const svg = hasSamples(dist)
    ? distributionChart({ id: 'supersede', title, subtitle, axis: 'milliseconds from B’s request', unit: 'ms', sample: 'one supersede', rows: dist })
    : // Results from before the samples were recorded: the per-round p50 and p99, as the table has them.
      rangeChart({
        id: 'supersede',
        title,
        subtitle,
        axis: 'milliseconds from B’s request',
        unit: 'ms',
        series: ['p50', 'p99'],
        rows: groups.flatMap(([group, xs, which]) =>
          xs.map((x) => ({ label: x.upstream, group, values: which === 'close' ? [range(x.closeP50Ms), range(x.closeP99Ms)] : [range(x.firstTokenP50Ms), range(x.firstTokenP99Ms)] })),
        ),
        fromZero: false,
      });
  return { file: 'supersede.svg', title, svg };
}

export function stopPlot(r: BenchResults): Plot | undefined {
  const own = (r.stop ?? []).map((x) => ({ row: x, label: `${x.path}, ${x.how}`, group: 'Stop section' }));
  const cluster = (r.cluster?.stop ?? []).map((x) => ({ row: x, label: x.path, group: 'cluster section (Stop endpoint, cooperative upstream)' }));
  const rows = [...own, ...cluster];
  if (rows.length === 0) return undefined;
  const title = 'Stop → upstream request closed';
  const subtitle = `Timed from the stop request sent (or the client’s socket destroyed) to the fake upstream seeing its request closed. ${runLine(r)}`;
  const ranOn = rows.filter((x) => x.row.ranToEnd > 0).map((x) => `${x.label}: the upstream ran to the end of its reply after ${x.row.ranToEnd} of ${x.row.stops} stops (nobody closed it), so those points are the reply's end.`);
  const dist = rows.map((x) => ({ label: x.label, group: x.group, samples: x.row.samplesMs ?? [] }));
  const svg = hasSamples(dist)
    ? distributionChart({ id: 'stop', title, subtitle, axis: 'milliseconds from the stop', unit: 'ms', sample: 'one stop', rows: dist, notes: ranOn })
    : rangeChart({ id: 'stop', title, subtitle, axis: 'milliseconds from the stop', unit: 'ms', series: ['p50', 'p99'], rows: rows.map((x) => ({ label: x.label, group: x.group, values: [range(x.row.p50Ms), range(x.row.p99Ms)] })), notes: ranOn, fromZero: false });
  return { file: 'stop.svg', title, svg };
}

const paths = (rows: ScaleRow[]) => [...new Set(rows.map((x) => x.path))];

export function memoryPlot(r: BenchResults): Plot | undefined {
  if (!r.scale?.length) return undefined;
  const rows = r.scale;
  const title = 'Memory per stream against the number of streams open';
  const svg = lineChart({
    id: 'memory',
    title,
    subtitle: `Slow streams, each its own session, on a fresh process per level: the slope of live RSS (after a full GC) over 0, ¼, ½, ¾ and all the streams open. ${runLine(r)}`,
    xAxis: 'concurrent streams',
    yAxis: 'RSS per stream (KB)',
    xUnit: 'streams',
    yUnit: 'KB',
    series: paths(rows).map((path, i) => ({ name: path, color: i, points: rows.filter((x) => x.path === path).map((x): [number, number] => [x.streams, x.rssPerStreamKB]) })),
  });
  return { file: 'memory.svg', title, svg };
}

export function liveMemoryPlot(r: BenchResults): Plot | undefined {
  if (!r.scale?.length) return undefined;
  const title = 'Live memory as the streams open';
  const svg = lineChart({
    id: 'memory-live',
    title,
    subtitle: `Each level on a fresh process: its RSS after a full GC at 0, ¼, ½, ¾ and all the streams open (the points memory per stream is the slope of). ${runLine(r)}`,
    xAxis: 'streams open',
    yAxis: 'live RSS (MB)',
    xUnit: 'streams',
    yUnit: 'MB',
    series: r.scale.map((x) => ({
      name: `${x.path}, ${x.streams.toLocaleString('en')} streams`,
      points: x.points.map(([streams, rss]): [number, number] => [streams, rss]),
      color: paths(r.scale!).indexOf(x.path),
      shape: r.scale!.filter((y) => y.path === x.path).indexOf(x),
    })),
  });
  return { file: 'memory-live.svg', title, svg };
}

/** Every chart file the bench can write. */
export const PLOT_FILES = ['throughput.svg', 'ttft.svg', 'supersede.svg', 'stop.svg', 'memory.svg', 'memory-live.svg', 'capacity.svg', 'capacity-memory.svg'] as const;

export function plots(r: BenchResults): Plot[] {
  return [throughputPlot(r), ttftPlot(r), supersedePlot(r), stopPlot(r), memoryPlot(r), liveMemoryPlot(r), capacityPlot(r.capacity, runLine(r)), capacityMemoryPlot(r.capacity, runLine(r))].filter((p): p is Plot => p !== undefined);
}

/** Writes the charts into `dir`; returns them (file names relative to `dir`). */
export function writePlots(r: BenchResults, dir: string): Plot[] {
  const drawn = plots(r);
  mkdirSync(dir, { recursive: true });
  // A chart an earlier run left there, of a section this run did not measure, would pass for this run's.
  for (const file of PLOT_FILES) if (!drawn.some((p) => p.file === file)) rmSync(join(dir, file), { force: true });
  for (const p of drawn) writeFileSync(join(dir, p.file), p.svg);
  return drawn;
}

/** Where the charts of a run named `name` (latest, quick, only) go, beside its tables. */
export const plotsFolder = (name: string): string => (name === 'latest' ? 'plots' : `${name}-plots`);

/**
 * `npm run bench`'s charts: written into `<name>-plots/` beside `<name>.md` (`plots/` beside
 * latest.md), and the Markdown that links them. A chart that fails to draw is named on stderr and
 * the tables are written all the same.
 */
export function chartsMarkdown(r: BenchResults, dir: string, name: string): string[] {
  const folder = plotsFolder(name);
  try {
    const drawn = writePlots(r, join(dir, folder));
    if (drawn.length === 0) return [];
    console.error(`(charts: ${drawn.map((p) => join(dir, folder, p.file)).join(', ')})`);
    return ['\n## Charts\n', ...drawn.map((p) => `![${p.title}](${folder}/${p.file})\n`)];
  } catch (err) {
    console.error('charts not drawn:', err);
    return [];
  }
}
