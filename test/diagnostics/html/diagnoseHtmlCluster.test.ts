import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { diagnoseCommand } from '../../../src/cli/diagnoseCommand.js';
import type { ReportData, ReportFinding } from '../../../src/shared/lifecycle.js';
import { LogBuilder } from '../../helpers/fixtures/logBuilder.js';
import { ensureUiBuilt } from '../../../e2e/helpers/uiBuild.js';
import { lineOf, readReport } from './reportFile.js';

// `jarvis diagnose --html` over three instances' logs (docs/observability.md "A report to attach"):
// a handover between instances is on the timeline as its lines; a split brain and the streams lost
// with a dead instance are findings tied to their streams and to lines of each instance's log.

const ALICE = { key: 'alice' };

function cluster() {
  const clock = { now: Date.parse('2026-01-26T10:00:00.000Z') };
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-html-cluster-'));
  const logs = { i1: new LogBuilder({ instance: 'i1', clock }), i2: new LogBuilder({ instance: 'i2', clock }), i3: new LogBuilder({ instance: 'i3', clock }) };
  for (const l of Object.values(logs)) l.listening().advance(10);
  const write = () => (['i1', 'i2', 'i3'] as const).map((i) => logs[i].write(join(dir, `${i}.log`)));
  return { ...logs, dir, write };
}

async function reportOf(dir: string): Promise<ReportData> {
  const file = join(dir, 'report.html');
  await diagnoseCommand(['--log', dir, '--html', file], () => {});
  return readReport(file).data;
}

function byCheck(data: ReportData, check: string): ReportFinding[] {
  return data.findings.filter((f) => f.check === check);
}

describe('jarvis diagnose --html over a cluster\'s logs', () => {
  beforeAll(ensureUiBuilt, 180_000);

  it('a handover is on the timeline; a split brain and lost streams are tied to their streams and lines', async () => {
    const c = cluster();
    // A handover: a1 on i1 superseded by b1 on i2, which waited for i1's release.
    c.i1.start('a1', 'hand', ALICE).advance(100);
    c.i2.start('b1', 'hand', ALICE).advance(2);
    c.i1.line('info', 'stream_stop_signal', { trace: 'a1', reason: 'superseded' }).cancelled('a1', 'hand').advance(3);
    c.i1.end('a1', 'hand', 'superseded').advance(4);
    c.i2.line('info', 'prev_stream_finished_cleanly', { trace: 'a1', new_trace: 'b1', session: 'hand', key: 'alice', prev_instance: 'i1', waited_ms: 9 }).advance(300);
    c.i2.end('b1', 'hand');
    // A split brain: s2 on i1 and on i2 at once, nothing linking them.
    c.i1.start('x1', 'split', ALICE).advance(100);
    c.i2.start('y1', 'split', ALICE).advance(2000);
    c.i1.end('x1', 'split').advance(100);
    c.i2.end('y1', 'split');
    // i3 dies with a stream; i1 records it lost when a new prompt of its session comes.
    c.i3.start('z1', 'dead', ALICE).advance(3000);
    c.i1.start('z2', 'dead', ALICE).line('warn', 'stream_lost', { trace: 'z1', new_trace: 'z2', session: 'dead', key: 'alice', prev_instance: 'i3', fence: 4, found_by: 'acquire', lease_ms: 1500 }).advance(200);
    c.i1.end('z2', 'dead');
    c.write();
    const data = await reportOf(c.dir);
    expect(data.sources.map((s) => s.label)).toEqual(['i1', 'i2', 'i3']);

    const path = new Map(data.sources.map((s) => [s.label, s.path]));
    const wait = data.records.find((r) => r.event === 'prev_stream_finished_cleanly');
    expect(wait).toMatchObject({ instance: 'i2', fields: { trace: 'a1', new_trace: 'b1', prev_instance: 'i1' }, line: { source: 'i2' } });
    expect(lineOf(path.get('i2')!, wait!.line!.n)).toContain('prev_stream_finished_cleanly trace=a1');
    expect(data.records.find((r) => r.event === 'stream_start' && r.fields.trace === 'a1')?.instance).toBe('i1');
    expect(data.records.find((r) => r.event === 'stream_lost')).toMatchObject({ instance: 'i1', fields: { trace: 'z1', prev_instance: 'i3' } });

    const [split] = byCheck(data, 'One stream per session across instances (no split brain)');
    expect(split).toMatchObject({ section: 'cluster', status: 'problem', sessions: ['split'] });
    expect(new Set(split!.streams)).toEqual(new Set(['x1', 'y1']));
    expect(split!.lines.map((l) => l.source)).toEqual(['i1', 'i2', 'i2']);
    for (const l of split!.lines) expect(lineOf(path.get(l.source)!, l.n)).toBe(l.text);

    const [lost] = byCheck(data, 'No streams lost with a dead instance (stream_lost)');
    expect(lost?.streams).toEqual(expect.arrayContaining(['z1', 'z2']));
    expect(lost?.lines[0]).toMatchObject({ source: 'i1' });
    expect(lost?.lines[0]?.text).toContain('stream_lost trace=z1');
    // The handover itself is no finding.
    expect(data.findings.some((f) => f.streams.includes('a1') || f.streams.includes('b1'))).toBe(false);
  });
});
