import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { svgProblems } from '../../bench/lib/plots/check.js';
import { distributionChart } from '../../bench/lib/plots/distribution.js';
import { PLOT_FILES, chartsMarkdown, plots, type BenchResults } from '../../bench/lib/plots/figures.js';
import { lineChart } from '../../bench/lib/plots/lines.js';
import { rangeChart } from '../../bench/lib/plots/ranges.js';
import { autoScale, linearScale, logScale } from '../../bench/lib/plots/scales.js';
import { textWidth } from '../../bench/lib/plots/svg.js';
import { spread } from '../../bench/lib/stats.js';
import type { CapacityResult, CapacityRow } from '../../bench/sections/capacity/section.js';
import { capacityOf, judge } from '../../bench/sections/capacity/verdict.js';

// The bench's chart writer (docs/benchmark.md "Plots"): records in, a sound SVG out.

/** Every number in a coordinate-like attribute or a path/polyline, as drawn. */
function coordinates(svg: string): string[] {
  const attrs = [...svg.matchAll(/\s(?:x|y|x1|y1|x2|y2|cx|cy|r|width|height)="([^"]*)"/g)].map((m) => m[1]!);
  const lists = [...svg.matchAll(/\s(?:points|d)="([^"]*)"/g)].flatMap((m) => m[1]!.split(/[\s,MLZ]+/).filter(Boolean));
  return [...attrs, ...lists];
}

function expectSound(svg: string): void {
  expect(svgProblems(svg)).toEqual([]);
  const coords = coordinates(svg);
  expect(coords.length).toBeGreaterThan(10);
  for (const c of coords) expect(Number.isFinite(Number(c)), `coordinate ${c}`).toBe(true);
}

const texts = (svg: string) => [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
const sp = (...v: number[]) => spread(v);

/** Records shaped as bench/run.ts's `results` holds them (two paths to each of two upstreams, and so on). */
function results(): BenchResults {
  const tp = (target: string, baseline: string | undefined, rates: number[]) => ({ target, baseline, tokens: 5000, paceMs: 0, tokensPerSecond: sp(...rates), ratioToBaseline: baseline ? sp(0.9, 0.95, 1) : undefined });
  const tt = (target: string, baseline: string | undefined, p50: number[], p99: number[]) => ({
    target,
    baseline,
    requests: 30,
    p50Ms: sp(...p50),
    p95Ms: sp(...p99),
    p99Ms: sp(...p99),
    addedP50Ms: undefined,
    addedP95Ms: undefined,
    addedP99Ms: undefined,
    ownP50Ms: undefined,
  });
  const samples = (base: number, n: number) => Array.from({ length: n }, (_, i) => base + (i % 7) * 0.3);
  return {
    machine: { cores: 2, node: 'v22.12.0', loadAverage1m: 1.5, date: '2026-12-07T14:00:00.000Z' },
    quick: true,
    throughput: {
      unthrottled: [
        tp('direct (Ollama NDJSON)', undefined, [170_000, 150_000, 190_000]),
        tp('Jarvis NDJSON (Ollama)', 'direct (Ollama NDJSON)', [150_000, 140_000, 160_000]),
        tp('direct (OpenAI SSE)', undefined, [190_000, 180_000, 200_000]),
        tp('Portkey (OpenAI-compatible)', 'direct (OpenAI SSE)', [50_000, 49_000, 52_000]),
      ],
    },
    ttft: [tt('direct (Ollama NDJSON)', undefined, [1, 1.1, 1.2], [2, 2.5, 3]), tt('Portkey (OpenAI-compatible)', 'direct (OpenAI SSE)', [30, 31, 29], [33, 34, 35])],
    supersede: [
      { upstream: 'cooperative (closes on FIN)', supersedes: 10, closeP50Ms: sp(2), closeP99Ms: sp(5), firstTokenP50Ms: sp(4), firstTokenP99Ms: sp(9), failed: 0, closeSamplesMs: samples(2, 10), firstTokenSamplesMs: samples(4, 10) },
      { upstream: 'ignores aborts (JARVIS_CANCEL_TIMEOUT_MS=250)', supersedes: 1, closeP50Ms: sp(260), closeP99Ms: sp(260), firstTokenP50Ms: sp(255), firstTokenP99Ms: sp(255), failed: 0, closeSamplesMs: [260], firstTokenSamplesMs: [255] },
    ],
    stop: [
      { path: 'Jarvis NDJSON (Ollama)', how: 'stop endpoint', stops: 15, p50Ms: sp(2), p99Ms: sp(8), ranToEnd: 0, failed: 0, samplesMs: samples(2, 15) },
      { path: 'Portkey (OpenAI-compatible)', how: 'client disconnect', stops: 2, p50Ms: sp(390), p99Ms: sp(392), ranToEnd: 2, failed: 0, samplesMs: [389, 392] },
    ],
    scale: [
      {
        path: 'Jarvis (demo backend)',
        streams: 300,
        rssPerStreamKB: 9.4,
        heapPerStreamKB: 8,
        points: [[0, 130, 20], [75, 130.5, 21], [150, 131, 22], [225, 131.5, 23], [300, 133, 24]],
        eventLoopP99Ms: 1,
        healthP99Ms: 2,
        healthMaxMs: 3,
        errors: 0,
        openSeconds: 0.5,
      },
    ],
    capacity: capacityResults(),
  };
}

/** The capacity section's records: one path that failed at its second step (measured twice), one that held every step, one with no server (direct). */
function capacityResults(): CapacityResult {
  const step = (streams: number, addedP99Ms: number, rssMB: number, attempt = 1) => {
    const figures = { streams, attempt, addedP50Ms: 0.4, addedP99Ms, healthP50Ms: 1, healthP99Ms: 4, errors: 0, rssMB, serverLoopP99Ms: 2, serverCpuMsPerSecond: 250, clientLoopP99Ms: 1, clientCpuShare: 0.1, tokensPerStreamPerSecond: 19.9, openSeconds: 0.2 };
    return { ...figures, ...judge(figures) };
  };
  const rec = (...attempts: ReturnType<typeof step>[]) => ({ streams: attempts[0]!.streams, attempts, pass: attempts.at(-1)!.pass });
  const row = (path: string, short: string, steps: ReturnType<typeof rec>[]): CapacityRow => {
    const c = capacityOf(steps);
    return { path, short, capacity: c.capacity, failedAt: c.failedAt, why: c.why, at: c.at, idleRssMB: 130, rssPerStreamKB: 20, cpu: { marginalMsPer1kTokens: 40, fixedMsPerSecond: 200, steps: 2 }, steps };
  };
  return {
    paceMs: 50,
    windowMs: 1000,
    clients: 2,
    stepsTried: [50, 100, 200],
    rows: [
      row('direct (Ollama NDJSON)', 'direct', [rec(step(50, 2, NaN)), rec(step(100, 3, NaN)), rec(step(200, 4, NaN))]),
      row('Jarvis NDJSON (Ollama)', 'ndjson', [rec(step(50, 3, 131)), rec(step(100, 30, 133), step(100, 25, 133, 2))]),
    ],
  };
}

describe('the range chart', () => {
  it('draws a marker per series and row, with the labels, the axis title and a legend', () => {
    const svg = rangeChart({
      id: 'ttft',
      title: 'Time to first token per path',
      axis: 'time to first token (ms)',
      unit: 'ms',
      series: ['p50', 'p99'],
      rows: [
        { label: 'direct (Ollama NDJSON)', group: 'Ollama NDJSON upstream', values: [{ median: 1.1, lo: 1, hi: 1.3 }, { median: 2.3, lo: 1.4, hi: 3.1 }] },
        { label: 'Portkey (OpenAI-compatible)', group: 'OpenAI SSE upstream', values: [{ median: 30, lo: 29, hi: 31 }, { median: 34, lo: 33, hi: 35 }] },
      ],
      fromZero: false,
    });
    expectSound(svg);
    const t = texts(svg);
    for (const label of ['Time to first token per path', 'p50', 'p99', 'direct (Ollama NDJSON)', 'Portkey (OpenAI-compatible)', 'Ollama NDJSON upstream', 'OpenAI SSE upstream']) expect(t).toContain(label);
    // Portkey's 30 ms beside 1 ms: a logarithmic axis, said so on the axis.
    expect(t).toContain('time to first token (ms) (log scale)');
    expect(svg).toMatch(/<title id="ttft-title">Time to first token per path<\/title>/);
    expect(svg).toMatch(/<desc id="ttft-desc">[^<]*Portkey \(OpenAI-compatible\): p50 30 ms \(29–31\), p99 34 ms \(33–35\)/);
    expect(svg).toMatch(/aria-labelledby="ttft-title ttft-desc"/);
    // Its own light background, for dark-mode viewers.
    expect(svg).toMatch(/<rect x="0" y="0" width="800" height="\d+(\.\d+)?" fill="#ffffff"\/>/);
  });

  it('leaves out a figure that was never measured (no rounds: NaN) and draws the rest', () => {
    const svg = rangeChart({ id: 'x', title: 'T', axis: 'a (ms)', unit: 'ms', series: ['p50'], rows: [{ label: 'none', values: [{ median: NaN, lo: NaN, hi: NaN }] }, { label: 'one', values: [{ median: 3, lo: 3, hi: 3 }] }] });
    expectSound(svg);
    expect(svg).toContain('none: no figure');
  });

  it('widens for a long label rather than clip it or squash the plot', () => {
    const label = 'a path with a very long name, '.repeat(4);
    const svg = rangeChart({ id: 'x', title: 'T', axis: 'a', unit: '', series: ['s'], rows: [{ label, values: [{ median: 1, lo: 1, hi: 2 }] }] });
    expectSound(svg);
    const width = Number(/<svg [^>]*width="([\d.]+)"/.exec(svg)![1]);
    expect(width).toBeGreaterThan(800);
    const x = Number([...svg.matchAll(/<text x="([\d.]+)"[^>]*>([^<]*)<\/text>/g)].find((m) => m[2] === label)![1]);
    // Right-aligned at x: its start, by the writer's own (wide) estimate, is inside the chart.
    expect(x - textWidth(label, 12)).toBeGreaterThanOrEqual(0);
  });

  it('escapes labels', () => {
    const svg = rangeChart({ id: 'x', title: 'a <b> & "c"', axis: 'a', unit: '', series: ['s'], rows: [{ label: '<script>&', values: [{ median: 1, lo: 1, hi: 2 }] }] });
    expectSound(svg);
    expect(texts(svg)).toContain('&lt;script&gt;&amp;');
  });
});

describe('the distribution chart', () => {
  it('draws a box, whiskers and a dot per sample; a row with no samples says so; one sample is drawn', () => {
    const svg = distributionChart({
      id: 'stop',
      title: 'Stop → upstream request closed',
      axis: 'milliseconds from the stop',
      unit: 'ms',
      sample: 'one stop',
      rows: [
        { label: 'many', samples: Array.from({ length: 40 }, (_, i) => 2 + i / 10) },
        { label: 'one', samples: [7] },
        { label: 'none', samples: [] },
        { label: 'broken', samples: [NaN, Infinity] },
      ],
    });
    expectSound(svg);
    expect(svg.match(/<circle /g)!.length).toBe(1 + 40 + 1); // the legend's dot, 40 and 1
    const t = texts(svg);
    for (const label of ['many (n=40)', 'one (n=1)', 'none (n=0)', 'broken (n=0)', 'one stop', 'milliseconds from the stop']) expect(t).toContain(label);
    expect(t.filter((s) => s === 'no samples')).toHaveLength(2);
    expect(svg).toContain('many: 40 samples, median 3.9 ms, p25–p75 2.9–4.9, p5–p95 2.1–5.7, max 5.9');
  });

  it('draws samples that are all the same value (a zero-width span)', () => {
    expectSound(distributionChart({ id: 'x', title: 'T', axis: 'ms', unit: 'ms', sample: 's', rows: [{ label: 'a', samples: [5, 5, 5] }] }));
    expectSound(distributionChart({ id: 'x', title: 'T', axis: 'ms', unit: 'ms', sample: 's', rows: [] }));
  });
});

describe('the line chart', () => {
  it('draws a line per series, a one-point series as a marker alone, and an empty one in the legend only', () => {
    const svg = lineChart({
      id: 'memory',
      title: 'Memory per stream',
      xAxis: 'concurrent streams',
      yAxis: 'RSS per stream (KB)',
      xUnit: 'streams',
      yUnit: 'KB',
      series: [
        { name: 'Jarvis (demo backend)', points: [[10_000, 18.8], [1000, 13.2]] },
        { name: 'Portkey', points: [[9000, 205]] },
        { name: 'nothing', points: [] },
        { name: 'broken', points: [[NaN, 1]] },
      ],
    });
    expectSound(svg);
    expect(svg.match(/<polyline /g)).toHaveLength(1);
    const t = texts(svg);
    for (const label of ['Jarvis (demo backend)', 'Portkey', 'nothing', 'concurrent streams', 'RSS per stream (KB)', '10k']) expect(t).toContain(label);
    expect(svg).toContain('Jarvis (demo backend): 13.2 KB at 1,000 streams, 18.8 KB at 10,000 streams');
    expect(svg).toContain('nothing: no points');
  });

  it('draws with no points at all', () => {
    expectSound(lineChart({ id: 'x', title: 'T', xAxis: 'x', yAxis: 'y', xUnit: '', yUnit: '', series: [] }));
  });
});

describe('scales', () => {
  it('round ticks covering the data, linear or logarithmic', () => {
    const lin = linearScale(0, 9.4, [0, 100]);
    expect(lin.ticks).toEqual([0, 2, 4, 6, 8, 10]);
    expect(lin(0)).toBe(0);
    expect(lin(10)).toBe(100);
    const log = logScale(0.7, 33, [0, 100]);
    expect(log.ticks).toEqual([0.5, 1, 2, 5, 10, 20, 50]);
    expect(autoScale([1, 100], [0, 1]).log).toBe(true);
    expect(autoScale([1, 10], [0, 1]).log).toBe(false);
    expect(autoScale([], [0, 1]).ticks.length).toBeGreaterThan(1);
  });
});

describe("the bench's charts, from its records", () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('draws every figure of a run, each sound', () => {
    const drawn = plots(results());
    expect(drawn.map((p) => p.file)).toEqual([...PLOT_FILES]);
    for (const p of drawn) expectSound(p.svg);
    const byFile = Object.fromEntries(drawn.map((p) => [p.file, p.svg]));
    expect(texts(byFile['throughput.svg']!)).toEqual(expect.arrayContaining(['Ollama NDJSON upstream', 'OpenAI SSE upstream', 'Jarvis NDJSON (Ollama)', 'throughput (tokens per second)']));
    expect(texts(byFile['supersede.svg']!)).toEqual(expect.arrayContaining(["B's request → A's upstream request closed", 'cooperative (closes on FIN) (n=10)', 'ignores aborts (JARVIS_CANCEL_TIMEOUT_MS=250) (n=1)']));
    expect(byFile['stop.svg']).toContain('the upstream ran to the end of its reply after 2 of 2 stops');
    expect(texts(byFile['memory.svg']!)).toContain('Jarvis (demo backend)');
    // Capacity: a line per path, named with its capacity, on a logarithmic axis of streams; direct has no memory line.
    expect(texts(byFile['capacity.svg']!)).toEqual(expect.arrayContaining(['direct (Ollama NDJSON): 200', 'Jarvis NDJSON (Ollama): 50', 'concurrent paced streams (log scale)']));
    expect(byFile['capacity.svg']).toMatch(/<desc[^>]*>[^<]*Jarvis NDJSON \(Ollama\): 50: 3 ms at 50 streams, 25 ms at 100 streams/);
    expect(texts(byFile['capacity-memory.svg']!)).not.toContain('direct (Ollama NDJSON)');
    // Which run the charts come from, with its load.
    expect(byFile['ttft.svg']).toContain('The quick run, 2026-12-07 14:00 UTC, 2 cores, Node 22.12.0, load average 1.5.');
  });

  it('draws only the sections a run measured, and the per-round figures for results recorded without samples', () => {
    const r = results();
    const old: BenchResults = { machine: r.machine, stop: r.stop!.map(({ samplesMs: _, ...row }) => row as never) };
    const drawn = plots(old);
    expect(drawn.map((p) => p.file)).toEqual(['stop.svg']);
    expectSound(drawn[0]!.svg);
    expect(texts(drawn[0]!.svg)).toEqual(expect.arrayContaining(['p50', 'p99']));
  });

  it('writes the files beside the tables and the Markdown that links them; an earlier run’s chart of a section not run is removed', () => {
    dir = mkdtempSync(join(tmpdir(), 'jarvis-plots-'));
    expect(chartsMarkdown(results(), dir, 'quick').join('')).toContain('![Throughput per path: one long stream, upstream unthrottled](quick-plots/throughput.svg)');
    expect(readdirSync(join(dir, 'quick-plots')).sort()).toEqual([...PLOT_FILES].sort());
    for (const f of PLOT_FILES) expect(svgProblems(readFileSync(join(dir, 'quick-plots', f), 'utf8'))).toEqual([]);
    writeFileSync(join(dir, 'quick-plots', 'notes.txt'), 'kept');
    chartsMarkdown({ ttft: results().ttft }, dir, 'quick');
    expect(readdirSync(join(dir, 'quick-plots')).sort()).toEqual(['notes.txt', 'ttft.svg']);
    expect(chartsMarkdown({}, dir, 'latest')).toEqual([]);
  });
});

describe('the check', () => {
  it('finds what is wrong with a chart', () => {
    expect(svgProblems('<svg xmlns="http://www.w3.org/2000/svg"><title>t</title><desc>d</desc></svg>')).toEqual([]);
    expect(svgProblems('<svg xmlns="http://www.w3.org/2000/svg"><title>t</title>')[0]).toMatch(/not well-formed/);
    expect(svgProblems('<svg xmlns="http://www.w3.org/2000/svg"><desc>d</desc><circle cx="NaN"/></svg>')).toEqual(['no <title>', 'contains NaN']);
  });
});
