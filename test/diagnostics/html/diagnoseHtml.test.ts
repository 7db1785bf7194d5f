import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { diagnoseCommand } from '../../../src/cli/diagnoseCommand.js';
import { LIFECYCLE_EVENT_SET } from '../../../src/log/lifecycleEvents.js';
import { parseLine } from '../../../src/log/format.js';
import type { ReportData } from '../../../src/shared/lifecycle.js';
import { events } from '../../helpers/log.js';
import { ensureUiBuilt } from '../../../e2e/helpers/uiBuild.js';
import { BUILT_PAGE, lineOf, readReport } from './reportFile.js';
import { HOSTILE, writeReportLogs, type ReportLogs } from './reportLogs.js';

// `jarvis diagnose --html` (docs/observability.md "A report to attach") over the logs of a real
// Jarvis run and a second instance's log written by the real SystemLog, holding a planted
// orphan (a stream_start with no stream_end) whose session is hostile markup.

let dir: string;
let jarvisLog: string;
let orphanLog: string;
let ids: ReportLogs['ids'];

beforeAll(async () => {
  // The page the command fills is the built one (dist/ui/report.html), as for a user.
  await ensureUiBuilt();
  dir = mkdtempSync(join(tmpdir(), 'jarvis-diagnose-html-'));
  ({ jarvisLog, orphanLog, ids } = await writeReportLogs(dir));
}, 180_000);

async function run(args: string[], template?: string): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await diagnoseCommand(args, (t) => (out += t), { reportTemplate: template });
  return { code, out };
}

describe('jarvis diagnose --html', () => {
  let data: ReportData;
  let html: string;
  let json: string;
  let file: string;

  beforeAll(async () => {
    file = join(dir, 'report.html');
    const { code, out } = await run(['--log', jarvisLog, '--log', orphanLog, '--html', file]);
    expect(code).toBe(1);
    expect(out).toContain(`Report: ${file}`);
    ({ data, html, json } = readReport(file));
  });

  it('names the logs it merged, with their line counts', () => {
    expect(data.version).toBe(1);
    expect(data.sources.map((s) => [s.label, s.path])).toEqual([
      ['system', jarvisLog],
      ['i2', orphanLog],
    ]);
    for (const s of data.sources) expect(s.lines).toBe(readLines(s.path).length);
  });

  it('keeps the lifecycle lines of both logs, in time order, each pointing at its line', () => {
    expect(data.records.length).toBeGreaterThan(8);
    for (const r of data.records) expect(LIFECYCLE_EVENT_SET.has(r.event)).toBe(true);
    const times = data.records.map((r) => r.t);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    const path = new Map(data.sources.map((s) => [s.label, s.path]));
    for (const r of data.records) {
      const line = parseLine(lineOf(path.get(r.line!.source)!, r.line!.n));
      expect(line?.event).toBe(r.event);
      expect(line?.fields).toEqual(r.fields);
      expect(Date.parse(line!.time)).toBe(r.t);
    }
    const of = (event: string, trace: string) => data.records.filter((r) => r.event === event && r.fields.trace === trace);
    for (const id of [ids.a, ids.b, ids.c]) {
      expect(of('stream_start', id)).toHaveLength(1);
      expect(of('stream_end', id)).toHaveLength(1);
    }
    expect(of('prev_stream_timeout_on_cancel', ids.a)[0]?.fields.new_trace).toBe(ids.b);
    // Lines that are not lifecycle lines are not records (cleanup, registry pops).
    expect(data.records.some((r) => r.event.startsWith('stream_registry'))).toBe(false);
    // Two logs: each line's instance is its log's label (no instance= in either but i2's).
    expect(of('stream_start', ids.a)[0]?.instance).toBe('system');
    expect(of('stream_start', 'planted-orphan')[0]?.instance).toBe('i2');
  });

  it('flags the planted orphan, tied to its stream and its stream_start line', () => {
    const orphan = data.findings.find((f) => f.streams.includes('planted-orphan'));
    expect(orphan).toMatchObject({ section: 'deadlock', status: 'problem', sessions: [HOSTILE] });
    const start = events(orphanLog, 'stream_start')[0]!;
    expect(orphan!.lines).toHaveLength(1);
    const ref = orphan!.lines[0]!;
    expect(ref.source).toBe('i2');
    expect(parseLine(lineOf(orphanLog, ref.n))).toEqual(start);
    expect(ref.text).toBe(lineOf(orphanLog, ref.n));
    expect(orphan!.at).toBe(Date.parse(start.time));
  });

  it('ties the supersede timeout to both streams and the wait line', () => {
    const timeout = data.findings.find((f) => f.title === 'Superseded streams finish within the cancel timeout');
    expect(timeout?.status).toBe('problem');
    expect(new Set(timeout!.streams)).toEqual(new Set([ids.a, ids.b]));
    expect(timeout!.sessions).toEqual(['rapid']);
    expect(parseLine(lineOf(jarvisLog, timeout!.lines[0]!.n))?.event).toBe('prev_stream_timeout_on_cancel');
    // Every finding line points at the line it quotes.
    const path = new Map(data.sources.map((s) => [s.label, s.path]));
    for (const f of data.findings) for (const l of f.lines) expect(lineOf(path.get(l.source)!, l.n)).toBe(l.text);
  });

  it('carries the text report', () => {
    expect(data.text).toContain('Jarvis diagnose: 2 logs merged by time');
    expect(data.text).toContain('planted-orphan');
  });

  it('a log value holding </script> cannot end the data element', () => {
    expect(json).not.toContain('<');
    expect(json).not.toContain('\u2028');
    expect(data.records.find((r) => r.fields.trace === 'planted-orphan')?.fields.session).toBe(HOSTILE);
    // The rest of the page is the built page's, unchanged: nothing in the data ended an element.
    const page = readFileSync(BUILT_PAGE, 'utf8');
    const [before, after] = page.split('<!--JARVIS_REPORT_DATA-->') as [string, string];
    expect(html.startsWith(before)).toBe(true);
    expect(html.endsWith(after)).toBe(true);
    expect(html.length).toBe(before.length + json.length + after.length);
  });
});

describe('jarvis diagnose --html, bounds and errors', () => {
  it('without the built page it says what to do and writes nothing', async () => {
    const file = join(dir, 'missing.html');
    await expect(run(['--log', jarvisLog, '--html', file], join(dir, 'no-such-dir', 'report.html'))).rejects.toThrow(/build the UI first: npm run build/);
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('--max-streams keeps the last streams, says so, and keeps the lines of every finding', async () => {
    const file = join(dir, 'capped.html');
    const { code } = await run(['--log', orphanLog, '--log', jarvisLog, '--html', file, '--max-streams', '1']);
    expect(code).toBe(1);
    const { data } = readReport(file);
    const starts = data.records.filter((r) => r.event === 'stream_start').map((r) => r.fields.trace);
    // The last stream (C), and the oldest, the orphan, put back because a finding quotes its line.
    expect(starts).toEqual(['planted-orphan', ids.c]);
    expect(data.records.some((r) => r.fields.trace === ids.b)).toBe(false);
    const capped = data.findings.find((f) => f.check === 'Records kept in this report');
    expect(capped).toMatchObject({ status: 'warning' });
    expect(capped!.detail).toMatch(/last 1 streams/);
    expect(data.text.startsWith('Note: the timeline shows the last 1 streams')).toBe(true);
  });

  it('--max-streams without --html, or not a count, is a usage error', async () => {
    await expect(diagnoseCommand(['--log', jarvisLog, '--max-streams', '5'], () => {})).rejects.toThrow(/only with --html/);
    await expect(run(['--log', jarvisLog, '--html', join(dir, 'x.html'), '--max-streams', '0'])).rejects.toThrow(/positive whole number/);
  });

  it('--session keeps that session\'s lines only', async () => {
    const file = join(dir, 'session.html');
    await run(['--log', jarvisLog, '--html', file, '--session', 'calm']);
    const { data } = readReport(file);
    const starts = data.records.filter((r) => r.event === 'stream_start').map((r) => r.fields.trace);
    expect(starts).toEqual([ids.c]);
  });
});

function readLines(file: string): string[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  return lines.at(-1) === '' ? lines.slice(0, -1) : lines;
}
