import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagnoseCommand } from '../../src/cli/diagnoseCommand.js';
import type { Check, Report } from '../../src/diagnostics/report/report.js';
import { LogBuilder } from '../helpers/fixtures/logBuilder.js';

// `jarvis diagnose` over several instances' logs (docs/clusters.md): synthetic logs in the
// server's own line format, one instance per file, sharing one clock.

interface Cluster {
  advance(ms: number): Cluster;
  i1: LogBuilder;
  i2: LogBuilder;
  i3: LogBuilder;
  dir: string;
  write(): string[];
}

function cluster(): Cluster {
  const clock = { now: Date.parse('2026-01-26T10:00:00.000Z') };
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-diagnose-cluster-'));
  const c: Cluster = {
    advance: (ms) => (c.i1.advance(ms), c),
    i1: new LogBuilder({ instance: 'i1', clock }),
    i2: new LogBuilder({ instance: 'i2', clock }),
    i3: new LogBuilder({ instance: 'i3', clock }),
    dir,
    write: () => (['i1', 'i2', 'i3'] as const).map((i) => c[i].write(join(dir, `${i}.log`))),
  };
  for (const i of [c.i1, c.i2, c.i3]) i.listening().advance(10);
  return c;
}

const ALICE = { key: 'alice' };

async function report(args: string[]): Promise<{ code: number; report: Report; byId: Map<string, Check>; text: string }> {
  let json = '';
  const code = await diagnoseCommand([...args, '--json'], (t) => (json += t));
  let text = '';
  await diagnoseCommand(args, (t) => (text += t));
  const parsed = JSON.parse(json) as Report;
  const byId = new Map(parsed.sections.flatMap((s) => s.checks.map((c) => [c.id, c] as const)));
  return { code, report: parsed, byId, text };
}

function problems(byId: Map<string, Check>): string[] {
  return [...byId.values()].filter((c) => c.status === 'problem').map((c) => c.id);
}

function evidenceText(check: Check | undefined): string {
  return (check?.evidence ?? []).map((e) => `${e.text}\n${(e.lines ?? []).join('\n')}`).join('\n');
}

/** A's stream on i1 superseded by B's prompt on i2: i2 waits for i1's release and logs it with both instances. */
function crossSupersede(c: Cluster, a: string, b: string, session: string): void {
  c.i2.start(b, session, ALICE).advance(2);
  c.i1.line('info', 'stream_stop_signal', { trace: a, reason: 'superseded' }).cancelled(a, session).advance(3);
  c.i1.end(a, session, 'superseded').advance(4);
  c.i2.line('info', 'prev_stream_finished_cleanly', { trace: a, new_trace: b, session, key: 'alice', prev_instance: 'i1', waited_ms: 9 }).advance(300);
  c.i2.end(b, session, 'done');
}

function healthy(): Cluster {
  const c = cluster();
  c.i1.start('a1', 's1', ALICE).advance(100);
  // Meanwhile other sessions run on the other instances, and another key's session of the same name.
  c.i3.start('c1', 's2', ALICE).advance(50);
  c.i2.start('d1', 's1', { key: 'bob' }).advance(50);
  crossSupersede(c, 'a1', 'b1', 's1');
  c.advance(100).i3.end('c1', 's2');
  c.i2.advance(10).end('d1', 's1');
  // Sequential prompts of one session on different instances.
  c.i3.advance(500).stream('e1', 's3').advance(100);
  c.i1.stream('e2', 's3').advance(100);
  for (const i of [c.i1, c.i2, c.i3]) i.line('info', 'shutdown_complete', { clean: true }).advance(5);
  return c;
}

describe('jarvis diagnose over several instances\' logs', () => {
  it('a healthy cluster (cross-instance supersede, sequential prompts on different instances) has no finding', async () => {
    const c = healthy();
    const files = c.write();
    const { code, report: r, byId, text } = await report(files.flatMap((f) => ['--log', f]));
    expect(problems(byId)).toEqual([]);
    expect(code).toBe(0);
    expect(r.sections.map((s) => s.id)).toEqual(['deadlock', 'delays', 'ui', 'logs', 'engine', 'cluster']);
    expect(r.log.files).toEqual(files);
    expect(byId.get('split_brain')?.status).toBe('ok');
    expect(byId.get('no_overlap')?.status).toBe('ok');
    expect(byId.get('register_waits')?.summary).toContain('every one waited');
    expect(byId.get('start_has_end')?.summary).toContain('6 stream_start, 6 stream_end');
    const summary = evidenceText(byId.get('cluster_instances'));
    expect(summary).toContain('i1: 2 streams, 2 ends, 0 problems');
    expect(summary).toContain('i2: 2 streams, 2 ends, 0 problems');
    expect(summary).toContain('i3: 2 streams, 2 ends, 0 problems');
    expect(text).toContain('3 logs merged by time');
    expect(text).toContain('Several instances (cluster)');
    expect(text).toContain('Result: healthy');
  });

  it("a cross-instance handover whose old stream_end merges in after the new instance's wait line (same millisecond, or clocks a hair apart) is no overlap", async () => {
    const c = cluster();
    c.i1.start('a', 's', ALICE).advance(50);
    c.i2.start('b', 's', ALICE).advance(2);
    c.i1.line('info', 'stream_stop_signal', { trace: 'a', reason: 'superseded' }).cancelled('a', 's');
    // b's instance saw a's release in Redis and logs its wait first; a's own instance writes its stream_end just after.
    c.i2.line('info', 'prev_stream_finished_cleanly', { trace: 'a', new_trace: 'b', session: 's', key: 'alice', prev_instance: 'i1', waited_ms: 2 }).advance(1);
    c.i1.end('a', 's', 'superseded').advance(300);
    c.i2.end('b', 's', 'done');
    const { byId } = await report(['--log', (c.write(), c.dir)]);
    expect(byId.get('no_overlap')?.status).toBe('ok');
    expect(problems(byId)).toEqual([]);
  });

  it('a stream that ended elsewhere just as a new prompt of its session started (the handover race) is no split brain', async () => {
    const c = cluster();
    c.i1.start('a1', 's1', ALICE).advance(300);
    // b1's stream_start is logged before it asks Redis; a1 ended and let go in that moment: nothing to wait for.
    c.i2.start('b1', 's1', ALICE).advance(3);
    c.i1.end('a1', 's1').advance(400);
    c.i2.end('b1', 's1');
    const { code, byId } = await report(['--log', (c.write(), c.dir)]);
    expect(problems(byId)).toEqual([]);
    expect(code).toBe(0);
    expect(byId.get('register_waits')?.status).toBe('ok');
  });

  it('--log DIR reads every *.log in it, the same as naming them', async () => {
    const c = healthy();
    c.write();
    writeFileSync(join(c.dir, 'notes.txt'), 'not a log\n');
    const { code, report: r } = await report(['--log', c.dir]);
    expect(code).toBe(0);
    expect(r.log.files).toEqual(['i1', 'i2', 'i3'].map((i) => join(c.dir, `${i}.log`)));
    expect(r.log.lines).toBe(c.i1.lines.length + c.i2.lines.length + c.i3.lines.length);
  });

  it('without --log: the logs beside a missing system.log are read; beside an existing one they are named', async () => {
    const c = healthy();
    c.write();
    const saved = process.env.JARVIS_LOG_FILE;
    process.env.JARVIS_LOG_FILE = join(c.dir, 'system.log');
    try {
      // `npm run cluster` writes logs/i1.log …, and no system.log: plain `jarvis diagnose` reads them all.
      const { code, report: r } = await report([]);
      expect(code).toBe(0);
      expect(r.log.files).toEqual(['i1', 'i2', 'i3'].map((i) => join(c.dir, `${i}.log`)));
      // A single instance's log there too: that one is read, and the others are pointed to.
      const single = new LogBuilder({ clock: { now: Date.parse('2026-01-26T09:00:00.000Z') } });
      single.listening();
      single.write(join(c.dir, 'system.log'));
      const { report: one, text } = await report([]);
      expect(one.log.lines).toBe(single.lines.length);
      expect(text).toContain(`beside it: ${['i1', 'i2', 'i3'].map((i) => join(c.dir, `${i}.log`)).join(', ')}. --log ${c.dir} reads them all.`);
    } finally {
      if (saved === undefined) delete process.env.JARVIS_LOG_FILE;
      else process.env.JARVIS_LOG_FILE = saved;
    }
  });

  it('two streams of one session generating at once on two instances, no handover between them: split brain, both named', async () => {
    const c = cluster();
    c.i1.start('a1', 's1', ALICE).advance(100);
    // i2 took the session without waiting for i1 (no prev_stream_* or stream_lost line).
    c.i2.start('b1', 's1', ALICE).advance(2000);
    c.i1.end('a1', 's1').advance(100);
    c.i2.end('b1', 's1');
    const { code, byId, text } = await report(['--log', c.write()[0] as string, '--log', join(c.dir, 'i2.log'), '--log', join(c.dir, 'i3.log')]);
    expect(code).toBe(1);
    expect(problems(byId)).toContain('split_brain');
    const sb = byId.get('split_brain');
    expect(sb?.count).toBe(1);
    expect(sb?.evidence[0]?.text).toMatch(/b1 started on i2 while a1 was live on i1 \(it ended 2000 ms after\)/);
    expect(sb?.fix).toContain('REDIS_URL');
    expect(evidenceText(byId.get('cluster_instances'))).toMatch(/i1: 1 streams, 1 ends, 1 problems \(1 split-brain\)/);
    expect(text).toContain('❌ One stream per session across instances (no split brain)');
  });

  it('a paused instance that lost its lease: lease_lost names the instance and the stream; the stream recorded lost is no split brain', async () => {
    const c = cluster();
    c.i1.start('a1', 's1', ALICE).advance(100);
    // i1 is paused past the lease: a new prompt on i2 finds the lease lapsed and records a1 lost.
    c.i2.start('b1', 's1', ALICE).line('warn', 'stream_lost', { trace: 'a1', new_trace: 'b1', session: 's1', key: 'alice', prev_instance: 'i1', fence: 7, found_by: 'acquire', lease_ms: 1500 }).advance(200);
    c.i2.end('b1', 's1').advance(300);
    // i1 wakes up: its next renewal is fenced.
    c.i1.line('warn', 'lease_lost', { trace: 'a1', session: 's1', key: 'alice', fence: 3, found_by: 'renew' }).end('a1', 's1', 'error', { error_code: 'lost' });
    const { code, byId } = await report(['--log', (c.write(), c.dir)]);
    expect(code).toBe(1);
    expect(problems(byId).sort()).toEqual(['lease_lost', 'streams_lost']);
    expect(byId.get('lease_lost')?.evidence[0]?.text).toMatch(/instance i1 lost its lease on stream a1 \(session s1, found by renew\)/);
    expect(byId.get('streams_lost')?.evidence[0]?.text).toMatch(/instance i1 died or hung: 1 streams recorded lost: a1/);
    expect(byId.get('split_brain')?.status).toBe('ok');
  });

  it('an instance that died mid-stream: its streams recorded lost by the others are listed under it, and are not orphans', async () => {
    const c = cluster();
    c.i1.start('a1', 's1', ALICE).advance(10).start('a2', 's2', ALICE).advance(10).start('a3', 's3', ALICE).advance(100);
    // i1 is killed: no more lines from it. A reader on i2 finds a1's lease lapsed; a prompt on i3 finds a2's.
    c.advance(2000).i2.line('warn', 'stream_lost', { trace: 'a1', session: 's1', key: 'alice', prev_instance: 'i1', fence: 9, found_by: 'reader' }).advance(50);
    c.i3.start('b2', 's2', ALICE).line('warn', 'stream_lost', { trace: 'a2', new_trace: 'b2', session: 's2', key: 'alice', prev_instance: 'i1', fence: 10, found_by: 'acquire' }).advance(100);
    c.i3.end('b2', 's2').advance(10);
    c.i2.line('warn', 'stream_lost', { trace: 'a3', session: 's3', key: 'alice', prev_instance: 'i1', fence: 11, found_by: 'stop' });
    const { byId, text } = await report(['--log', (c.write(), c.dir)]);
    expect(problems(byId)).toEqual(['streams_lost']);
    const lost = byId.get('streams_lost');
    expect(lost?.summary).toBe('3 streams lost with their instance (3 of i1)');
    expect(lost?.evidence[0]?.text).toBe('instance i1 died or hung: 3 streams recorded lost: a1, a2, a3');
    expect(byId.get('start_has_end')?.summary).toContain('3 recorded lost by another instance');
    expect(evidenceText(byId.get('cluster_instances'))).toMatch(/i1: 3 streams, 0 ends, 3 problems \(3 streams lost with it\).*log ends while running/);
    expect(text).toContain('❌ No streams lost with a dead instance (stream_lost)');
  });

  it('an instance restarted without shutdown_complete is named; the other instances\' streams are not taken for lost', async () => {
    const c = cluster();
    c.i2.start('b1', 's9', ALICE).advance(100);
    c.i1.start('a1', 's1', ALICE).advance(100);
    // i1 is killed and started again while b1 streams on i2.
    c.i1.listening().advance(100);
    c.i2.end('b1', 's9').advance(10);
    for (const i of [c.i1, c.i2, c.i3]) i.line('info', 'shutdown_complete', { clean: true });
    const { byId } = await report(['--log', (c.write(), c.dir)]);
    expect(problems(byId).sort()).toEqual(['instance_restarts', 'start_has_end']);
    expect(byId.get('instance_restarts')?.summary).toBe('1 restarts without shutdown_complete (i1 ×1)');
    expect(byId.get('instance_restarts')?.evidence[0]?.text).toMatch(/^instance i1 restarted at .* without shutdown_complete/);
    // a1 died with i1's first run; b1 on i2 went on and ended.
    expect(byId.get('start_has_end')?.evidence.map((e) => e.trace)).toEqual(['a1']);
    expect(byId.get('start_has_end')?.summary).toContain('2 stream_start, 1 stream_end');
    // Judged once, per instance: the log-gaps check leaves restarts to the cluster section.
    expect(byId.get('log_gaps')?.status).toBe('ok');
    expect(evidenceText(byId.get('cluster_instances'))).toMatch(/i1: 1 streams, 0 ends, 1 problems \(1 restarts without shutdown_complete\)/);
  });

  it('--session follows one session across instances, in time order', async () => {
    const c = healthy();
    c.write();
    const { report: r } = await report(['--log', c.dir, '--session', 's1']);
    const timeline = r.timeline ?? [];
    const times = timeline.map((l) => l.slice(0, 24));
    expect(times).toEqual([...times].sort());
    expect(timeline.some((l) => l.includes('instance=i1'))).toBe(true);
    expect(timeline.some((l) => l.includes('prev_stream_finished_cleanly') && l.includes('instance=i2'))).toBe(true);
  });

  it('a --log that does not exist among several is named; the others are still read', async () => {
    const c = healthy();
    const [f1] = c.write();
    const { code, byId } = await report(['--log', f1 as string, '--log', join(c.dir, 'missing.log')]);
    expect(code).toBe(1);
    expect(byId.get('log_file')?.summary).toContain('missing.log: no such file');
    expect(byId.get('log_lines')?.status).toBe('ok');
  });
});
