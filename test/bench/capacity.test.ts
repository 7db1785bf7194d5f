import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpstreams, targets, type Upstreams } from '../../bench/lib/setup.js';
import { GapHistogram, MarkerCounter, StreamGaps } from '../../bench/sections/capacity/gaps.js';
import { cpuCost } from '../../bench/sections/capacity/section.js';
import { streamsPerCore } from '../../bench/sections/capacity/report.js';
import { startStreamClients } from '../../bench/sections/capacity/streams.js';
import { capacityOf, halfSteps, judge, parseSteps, runSteps, type StepFigures } from '../../bench/sections/capacity/verdict.js';

// The capacity section's measure and stop rule (docs/benchmark.md "Capacity"): the pure parts on
// made-up figures, and its client on ten real paced streams from the bench's fake upstream.

const figures = (streams: number, addedP99Ms: number, healthP99Ms = 5, errors = 0): StepFigures => ({ streams, addedP50Ms: 0.5, addedP99Ms, healthP99Ms, errors });

describe('the stop rule', () => {
  it('passes a step within both limits, and names every limit a failing step passed', () => {
    expect(judge(figures(50, 10, 100))).toEqual({ pass: true, why: '' });
    expect(judge(figures(50, 10.1, 5))).toEqual({ pass: false, why: 'added inter-token p99 10.1 ms > 10' });
    expect(judge(figures(50, 12, 150, 3)).why).toBe('3 of 50 streams failed; added inter-token p99 12.0 ms > 10; /health p99 150.0 ms > 100');
    // A figure that could not be measured (no tokens at all) is a failure, not a pass.
    expect(judge(figures(50, NaN)).pass).toBe(false);
  });

  it('measures a failing step once more, and goes on when the second window passes', async () => {
    const seen: Array<[number, number]> = [];
    const p99 = new Map([['100/1', 40]]);
    const r = await runSteps([50, 100, 200], async (streams, attempt) => {
      seen.push([streams, attempt]);
      return figures(streams, p99.get(`${streams}/${attempt}`) ?? 3);
    });
    expect(seen).toEqual([[50, 1], [100, 1], [100, 2], [200, 1]]);
    expect(r.capacity).toBe(200);
    expect(r.failedAt).toBeUndefined();
    expect(r.steps[1]!.attempts.map((a) => a.pass)).toEqual([false, true]);
  });

  it('stops at the first confirmed failure: capacity is the last passing step, with its figures', async () => {
    const seen: number[] = [];
    const r = await runSteps([50, 100, 200, 400], async (streams) => {
      seen.push(streams);
      return figures(streams, streams >= 200 ? 25 : 2);
    });
    expect(seen).toEqual([50, 100, 200, 200]);
    expect(r).toMatchObject({ capacity: 100, failedAt: 200, why: 'added inter-token p99 25.0 ms > 10' });
    expect(r.at?.streams).toBe(100);
  });

  it('with keepGoing, measures every step (once each after the failure) and still gives the capacity before the first failure', async () => {
    const seen: number[] = [];
    const r = await runSteps([50, 100, 200, 400], async (streams) => {
      seen.push(streams);
      return figures(streams, streams === 100 ? 25 : 2);
    }, { keepGoing: true });
    expect(seen).toEqual([50, 100, 100, 200, 400]);
    expect(r.steps.map((s) => s.pass)).toEqual([true, false, true, true]);
    expect(r).toMatchObject({ capacity: 50, failedAt: 100 });
  });

  it('gives 0 when the first step fails, and reads the steps from the environment', () => {
    const failed = { streams: 50, attempts: [{ ...figures(50, 30), ...judge(figures(50, 30)) }], pass: false };
    expect(capacityOf([failed])).toMatchObject({ capacity: 0, at: undefined, failedAt: 50 });
    expect(halfSteps(50, 6400)).toEqual([50, 75, 100, 150, 200, 300, 400, 600, 800, 1200, 1600, 2400, 3200, 4800, 6400]);
    expect(halfSteps(20, 50)).toEqual([20, 30, 40]);
    expect(parseSteps(' 100, 50 ', [1])).toEqual([50, 100]);
    expect(parseSteps(undefined, [1])).toEqual([1]);
    expect(() => parseSteps('50,x', [1])).toThrow(/BENCH_CAPACITY_STEPS/);
  });
});

describe("the path's CPU figure", () => {
  it('is a line of CPU over tokens through the steps that kept pace: what each further token costs, and what is spent whatever the streams', () => {
    // 200 ms a second fixed, 40 ms per 1,000 tokens; the 1,600-stream step fell behind (and had no CPU left to give).
    const s = (streams: number, tokensPerStreamPerSecond: number) => ({ streams, tokensPerStreamPerSecond, serverCpuMsPerSecond: Math.min(900, 200 + 0.04 * streams * tokensPerStreamPerSecond) });
    const c = cpuCost([s(100, 20), s(400, 19.5), s(1600, 12)]);
    expect(c.steps).toBe(2);
    expect(c.marginalMsPer1kTokens).toBeCloseTo(40, 6);
    expect(c.fixedMsPerSecond).toBeCloseTo(200, 6);
    expect(streamsPerCore(40, 50)).toBe(1250);
    // One step is no line.
    expect(cpuCost([s(100, 20)]).marginalMsPer1kTokens).toBeNaN();
  });
});

describe('the gap measure', () => {
  it('counts a marker in chunks, one split across two chunks included, never twice', () => {
    const c = new MarkerCounter('"type":"token"');
    const line = '{"type":"token","text":"t1 "}\n';
    expect(c.count(Buffer.from(line + line))).toBe(2);
    const two = line + line;
    const cut = two.indexOf('token', 10) + 2; // inside the second marker
    expect(c.count(Buffer.from(two.slice(0, cut)))).toBe(1);
    expect(c.count(Buffer.from(two.slice(cut)))).toBe(1);
    // Byte by byte: every marker found once.
    const bytes = Buffer.from(line.repeat(3));
    let n = 0;
    for (let i = 0; i < bytes.length; i++) n += c.count(bytes.subarray(i, i + 1));
    expect(n).toBe(3);
  });

  it('keeps added delays in 0.1 ms buckets: percentiles exact to the bucket, histograms merged by addition', () => {
    const h = new GapHistogram();
    for (let i = 1; i <= 100; i++) h.record(i / 10); // 0.1 … 10 ms
    expect(h.percentile(50)).toBe(5);
    expect(h.percentile(99)).toBe(9.9);
    expect(h.percentile(100)).toBe(10);
    h.record(-50);
    h.record(1e6); // later than the last bucket: counted there, not lost
    expect(h.total).toBe(102);
    expect(h.percentile(0)).toBe(-50);
    expect(h.percentile(100)).toBe(5000);
    const merged = new GapHistogram().merge(h).merge(h.counts);
    expect(merged.total).toBe(204);
    expect(merged.percentile(50)).toBe(h.percentile(50));
    expect(new GapHistogram().percentile(99)).toBeNaN();
  });

  it("records each token's gap less the pace, a chunk of several tokens as one late and the rest at once, and only while measuring", () => {
    const h = new GapHistogram();
    const g = new StreamGaps(50, h);
    g.arrived(1000, 1, true); // the first token: no gap
    g.arrived(1051, 1, true); // 1 ms late
    g.arrived(1120, 2, true); // 19 ms late, then one with it (a gap of 0)
    g.arrived(1170, 1, false); // outside the window
    g.arrived(1222, 1, true);
    expect(g.tokens).toBe(6);
    expect(h.total).toBe(4);
    expect([h.percentile(25), h.percentile(50), h.percentile(75), h.percentile(100)]).toEqual([-50, 1, 2, 19]);
  });
});

describe('the client, on real paced streams', () => {
  let up: Upstreams;
  beforeAll(async () => {
    up = await startUpstreams();
  });
  afterAll(async () => {
    await up?.child.stop();
  });

  it('holds ten streams at 20 tokens/s from the fake upstream, each token counted and its gap measured', async () => {
    const clients = await startStreamClients(2);
    try {
      const direct = targets(up, '', '', '').directOllama;
      const spec = { urls: [direct.url], headers: {}, body: JSON.stringify(direct.body('n=400 ms=50')), marker: direct.firstTokenMarker, paceMs: 50, session: 'cap-test' };
      expect(await clients.open(spec, 0, 10, 20_000)).toEqual({ started: 10, failed: 0 });
      await clients.startWindow();
      await new Promise((r) => setTimeout(r, 1000));
      const w = await clients.endWindow();
      expect(w.alive).toBe(10);
      expect(w.ended).toBe(0);
      // About 20 tokens a stream in a second; generous bounds (a loaded machine is slower, never faster).
      expect(w.tokens).toBeGreaterThan(10 * 5);
      expect(w.tokens).toBeLessThanOrEqual(10 * 22);
      expect(w.histogram.total).toBeGreaterThan(10 * 4);
      // A gap is never much shorter than the pace unless tokens came together (−50 at the least).
      expect(w.histogram.percentile(0)).toBeGreaterThanOrEqual(-50);
      expect(w.clientCpuShare).toBeGreaterThanOrEqual(0);
      await clients.closeAll();
    } finally {
      await clients.stop();
    }
  });
});
