import { describe, expect, it } from 'vitest';
import type { LifecycleRecord } from '../../../src/shared/lifecycle.js';
import { Timeline, lanesOf, filterChoices, timelineOfReport, type Finding } from '../../../src/client/timeline/index.js';

const T0 = 1_700_000_000_000;

function rec(dt: number, event: string, fields: Record<string, string | number>, instance = ''): LifecycleRecord {
  const strings = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)]));
  return { t: T0 + dt, level: 'info', event, instance, fields: strings };
}

const start = (dt: number, id: string, session = 's1', extra: Record<string, string> = {}, instance = '') =>
  rec(dt, 'stream_start', { trace: id, session, stream_id: id, model: 'm1', backend: 'openai', key: 'alice', ...extra }, instance);
const end = (dt: number, id: string, reason: string, extra: Record<string, string | number> = {}, session = 's1', instance = '') =>
  rec(dt, 'stream_end', { trace: id, session, reason, tokens: 5, duration_ms: 0, ...extra }, instance);

function kinds(findings: Finding[]): string[] {
  return findings.map((f) => f.kind).sort();
}

describe('Timeline', () => {
  it('draws a supersede: the old bar ends superseded, the new one has the wait and its first token, no finding', () => {
    const tl = new Timeline();
    tl.add(start(0, 'A'));
    tl.add(rec(50, 'stream_first_token', { trace: 'A', session: 's1' }));
    tl.add(start(300, 'B'));
    tl.add(rec(300, 'stream_cancelled', { trace: 'A', session: 's1', reason: 'superseded', tokens: 3 }));
    tl.add(end(340, 'A', 'superseded', { duration_ms: 340, ttft_ms: 50, upstream_close: 'upstream_closed', upstream_close_ms: 30, cancel: 'confirmed', cancel_ms: 20, cancel_how: 'slot_idle' }));
    tl.add(rec(341, 'prev_stream_finished_cleanly', { trace: 'A', new_trace: 'B', session: 's1', waited_ms: 41 }));
    tl.add(rec(400, 'stream_first_token', { trace: 'B', session: 's1' }));
    tl.add(end(900, 'B', 'done', { finish: 'stop', duration_ms: 600, ttft_ms: 100 }));
    tl.tick(T0 + 1000);
    const a = tl.get('A')!;
    const b = tl.get('B')!;
    expect(a.outcome).toBe('superseded');
    expect(a.end).toBe(T0 + 340);
    expect(a.supersededBy).toBe('B');
    expect(a.verdict).toEqual({ cancel: 'confirmed', ms: 20, how: 'slot_idle', slot: undefined });
    expect(a.marks.map((m) => m.kind).sort()).toEqual(['cancel', 'engine_confirmed', 'first_token', 'upstream_closed']);
    expect(a.marks.find((m) => m.kind === 'first_token')!.t).toBe(T0 + 50); // the live mark, not start + ttft
    expect(a.marks.find((m) => m.kind === 'engine_confirmed')!.t).toBe(T0 + 320);
    expect(a.marks.find((m) => m.kind === 'upstream_closed')!.t).toBe(T0 + 330);
    expect(b.outcome).toBe('done');
    expect(b.supersedes).toEqual(['A']);
    expect(b.marks.find((m) => m.kind === 'supersede_wait')).toMatchObject({ t: T0 + 300, until: T0 + 341 });
    expect(b.records.map((r) => r.event)).toEqual(['stream_start', 'prev_stream_finished_cleanly', 'stream_first_token', 'stream_end']);
    expect(tl.findings()).toEqual([]);
    expect(lanesOf(tl).map((l) => [l.session, l.instance, l.streams.map((s) => s.id)])).toEqual([['s1', '', ['A', 'B']]]);
  });

  it('takes the marks from stream_end alone (a log): first token at start + ttft_ms, the verdict after the cancel', () => {
    const tl = new Timeline();
    tl.add(start(0, 'A'));
    tl.add(rec(1000, 'session_stop', { session: 's1', stopped: 'true' }));
    tl.add(end(1200, 'A', 'stopped', { duration_ms: 1200, ttft_ms: 250, upstream_close: 'upstream_closed', upstream_close_ms: 150, cancel: 'confirmed', cancel_ms: 180, cancel_how: 'sequence_free' }));
    const a = tl.get('A')!;
    const at = (kind: string) => a.marks.find((m) => m.kind === kind)?.t;
    expect(a.outcome).toBe('stopped');
    expect(at('first_token')).toBe(T0 + 250);
    expect(at('cancel')).toBe(T0 + 1000);
    expect(at('upstream_closed')).toBe(T0 + 1150);
    expect(at('engine_confirmed')).toBe(T0 + 1180);
    expect(a.records.map((r) => r.event)).toEqual(['stream_start', 'session_stop', 'stream_end']);
    expect(a.timings).toMatchObject({ duration_ms: 1200, ttft_ms: 250 });
  });

  it('builds the same bar from records out of order (stream_end before its start, from another instance)', () => {
    const tl = new Timeline();
    tl.add(end(1000, 'A', 'done', { duration_ms: 1000, ttft_ms: 100 }, 's1', 'i1'));
    expect(tl.get('A')!.start).toBe(T0); // from duration_ms until the start arrives
    tl.add(rec(500, 'upstream_routed', { trace: 'A', upstream: 'gpu-1' }, 'i1'));
    tl.add(start(2, 'A', 's1', {}, 'i1'));
    const a = tl.get('A')!;
    expect(a.start).toBe(T0 + 2);
    expect(a.outcome).toBe('done');
    expect(a.upstream).toBe('gpu-1');
    expect(a.model).toBe('m1');
    expect(a.records.map((r) => r.event)).toEqual(['stream_start', 'upstream_routed', 'stream_end']);
    expect(a.marks.find((m) => m.kind === 'first_token')!.t).toBe(T0 + 102);
  });

  it('flags an overlap: the new stream generated before the old one ended', () => {
    const tl = new Timeline();
    const found: Finding[] = [];
    tl.onFinding((f) => found.push(f));
    tl.add(start(0, 'A'));
    tl.add(start(100, 'B'));
    tl.add(rec(150, 'stream_first_token', { trace: 'B', session: 's1' }));
    expect(found).toEqual([]); // A's end may still be on its way
    tl.add(end(400, 'A', 'superseded', { duration_ms: 400 }));
    expect(kinds(found)).toEqual(['overlap']);
    expect(found[0]!.streams).toEqual(['A', 'B']);
    tl.add(end(401, 'A', 'superseded', { duration_ms: 401 }));
    expect(found).toHaveLength(1); // found again: one finding
  });

  it('flags an open stream overlapped by a generating successor once the grace is over (tick)', () => {
    const tl = new Timeline();
    tl.add(start(0, 'A'));
    tl.add(start(100, 'B'));
    tl.add(rec(150, 'stream_first_token', { trace: 'B', session: 's1' }));
    tl.tick(T0 + 1000);
    expect(tl.findings()).toEqual([]);
    tl.tick(T0 + 5000);
    expect(kinds(tl.findings())).toEqual(['overlap']);
  });

  it('flags a stream without end: open past the bound, or its instance silent', () => {
    const tl = new Timeline({ noEndMs: 10_000, silentMs: 5000 });
    tl.add(start(0, 'A'));
    tl.tick(T0 + 9000);
    expect(tl.findings()).toEqual([]);
    tl.tick(T0 + 11_000);
    expect(tl.findings().map((f) => [f.kind, f.streams])).toEqual([['no_end', ['A']]]);

    const cluster = new Timeline({ noEndMs: 60_000, silentMs: 5000 });
    cluster.add(start(0, 'X', 's1', {}, 'i1'));
    cluster.add(start(0, 'Y', 's2', {}, 'i2'));
    cluster.add(rec(7000, 'upstream_routed', { trace: 'Y', upstream: 'u' }, 'i2'));
    cluster.tick(T0 + 7000);
    expect(cluster.findings().map((f) => [f.kind, f.streams])).toEqual([['no_end', ['X']]]);
  });

  it('flags an unconfirmed cancel (stream_end verdict or engine_still_generating) and a slow one', () => {
    const tl = new Timeline({ slowCancelMs: 1000 });
    tl.add(start(0, 'A'));
    tl.add(rec(100, 'stream_cancelled', { trace: 'A', session: 's1', reason: 'stopped' }));
    tl.add(rec(2100, 'engine_still_generating', { stream: 'A', slot: '0', ms: 2000 }));
    tl.add(end(2200, 'A', 'stopped', { duration_ms: 2200, cancel: 'unconfirmed', cancel_ms: 2100, cancel_how: 'grace_expired', upstream_close: 'forced', upstream_close_ms: 2000 }));
    expect(kinds(tl.findings())).toEqual(['slow_cancel', 'unconfirmed_cancel']);
    expect(tl.get('A')!.marks.some((m) => m.kind === 'engine_unconfirmed')).toBe(true);

    const tl2 = new Timeline();
    tl2.add(start(0, 'A'));
    tl2.add(start(500, 'B'));
    tl2.add(rec(2500, 'prev_stream_timeout_on_cancel', { trace: 'A', new_trace: 'B', session: 's1', waited_ms: 2000, timeout_ms: 2000 }));
    expect(tl2.findings().map((f) => [f.kind, f.streams])).toEqual([['slow_cancel', ['A', 'B']]]);
  });

  it('flags stream_lost and ends the bar lost', () => {
    const tl = new Timeline();
    tl.add(start(0, 'A', 's1', {}, 'i1'));
    tl.add(rec(9000, 'stream_lost', { trace: 'A', session: 's1', prev_instance: 'i1', found_by: 'reader' }, 'i2'));
    const a = tl.get('A')!;
    expect(a.outcome).toBe('lost');
    expect(a.end).toBe(T0 + 9000);
    expect(a.instance).toBe('i1');
    expect(kinds(tl.findings())).toEqual(['lost']);
  });

  it('names lanes by instance and session once records come from several instances', () => {
    const tl = new Timeline();
    tl.add(start(0, 'A', 's1', {}, 'i1'));
    expect(lanesOf(tl).map((l) => l.key)).toEqual(['s1']);
    tl.add(start(10, 'B', 's1', {}, 'i2'));
    tl.add(start(20, 'C', 's2', {}, 'i2'));
    expect(lanesOf(tl).map((l) => [l.instance, l.session, l.streams.map((s) => s.id)])).toEqual([
      ['i1', 's1', ['A']],
      ['i2', 's1', ['B']],
      ['i2', 's2', ['C']],
    ]);
  });

  it('filters by session, key, model, upstream and outcome', () => {
    const tl = new Timeline();
    tl.add(start(0, 'A', 'sess-a', { key: 'alice', model: 'm1' }));
    tl.add(rec(1, 'upstream_routed', { trace: 'A', upstream: 'gpu-1' }));
    tl.add(end(50, 'A', 'done', {}, 'sess-a'));
    tl.add(start(10, 'B', 'sess-b', { key: 'bob', model: 'm2' }));
    tl.add(end(60, 'B', 'error', { error_code: 'timeout' }, 'sess-b'));
    tl.add(start(20, 'C', 'sess-c', { key: 'bob', model: 'm1' }));
    const ids = (filter: Parameters<typeof lanesOf>[1]) => lanesOf(tl, filter).flatMap((l) => l.streams.map((s) => s.id));
    expect(ids({ session: 'sess-b' })).toEqual(['B']);
    expect(ids({ key: 'bob' })).toEqual(['B', 'C']);
    expect(ids({ model: 'm1' })).toEqual(['A', 'C']);
    expect(ids({ upstream: 'gpu-1' })).toEqual(['A']);
    expect(ids({ outcomes: new Set(['timeout', 'live'] as const) })).toEqual(['B', 'C']);
    expect(filterChoices(tl)).toEqual({ keys: ['alice', 'bob'], models: ['m1', 'm2'], upstreams: ['gpu-1'], outcomes: ['done', 'live', 'timeout'] });
  });

  it('keeps memory bounded: streams ended before the window, and the oldest past maxStreams, go', () => {
    const tl = new Timeline({ keepMs: 60_000, maxStreams: 100 });
    for (let i = 0; i < 50; i++) {
      tl.add(start(i * 1000, `old${i}`, `s${i}`));
      tl.add(end(i * 1000 + 500, `old${i}`, 'done', {}, `s${i}`));
    }
    tl.add(rec(10_000, 'engine_still_generating', { stream: 'old9', ms: 1 }));
    expect(tl.findings()).toHaveLength(1);
    tl.add(start(200_000, 'new', 'sN'));
    tl.prune();
    expect([...tl.all()].map((b) => b.id)).toEqual(['new']);
    expect(tl.findings()).toEqual([]);
    for (let i = 0; i < 300; i++) tl.add(start(200_001 + i, `x${i}`, `t${i}`));
    expect(tl.size).toBeLessThanOrEqual(100);
    expect(tl.get('x299')).toBeDefined();
  });

  it('prunes past an old stream still open (a hang does not keep everything after it)', () => {
    const tl = new Timeline({ keepMs: 60_000, maxStreams: 1000 });
    tl.add(start(0, 'hang', 'h'));
    for (let i = 0; i < 20; i++) {
      tl.add(start(1000 + i, `x${i}`, `s${i}`));
      tl.add(end(2000 + i, `x${i}`, 'done', {}, `s${i}`));
    }
    tl.add(start(100_000, 'new', 'n'));
    tl.prune();
    expect([...tl.all()].map((b) => b.id)).toEqual(['hang', 'new']);
  });

  it('reset empties it', () => {
    const tl = new Timeline();
    tl.add(start(0, 'A'));
    tl.reset();
    expect(tl.size).toBe(0);
    expect(lanesOf(tl)).toEqual([]);
  });

  it('stays fast at a few thousand streams', () => {
    const tl = new Timeline({ maxStreams: 10_000 });
    const began = performance.now();
    for (let i = 0; i < 3000; i++) {
      const s = `s${i % 300}`;
      tl.add(start(i * 10, `A${i}`, s));
      tl.add(rec(i * 10 + 3, 'stream_first_token', { trace: `A${i}`, session: s }));
      tl.add(end(i * 10 + 8, `A${i}`, 'done', { duration_ms: 8, ttft_ms: 3 }, s));
    }
    for (let i = 0; i < 10; i++) lanesOf(tl, { model: 'm1' });
    expect(performance.now() - began).toBeLessThan(2000);
    expect(lanesOf(tl)).toHaveLength(300);
    expect(tl.findings()).toEqual([]);
  });

  it('replays a report: its records in time order, its findings beside the model\'s', () => {
    const tl = timelineOfReport({
      version: 1,
      generatedAt: T0,
      sources: [{ label: 'a.log', path: '/x/a.log', lines: 3 }],
      records: [end(100, 'A', 'done', { duration_ms: 100 }), start(0, 'A')],
      findings: [{ section: 'Streams', check: 'orphan', status: 'problem', title: 'Orphaned stream', streams: ['A'], sessions: ['s1'], lines: [] }],
      text: '',
    });
    expect(tl.get('A')!.records.map((r) => r.event)).toEqual(['stream_start', 'stream_end']);
    expect(tl.findings().map((f) => [f.kind, f.title])).toEqual([['report', 'Orphaned stream']]);
  });
});
