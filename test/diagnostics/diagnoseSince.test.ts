import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagnoseCommand } from '../../src/cli/diagnoseCommand.js';
import type { Report } from '../../src/diagnostics/report/report.js';
import { LogBuilder } from '../helpers/fixtures/logBuilder.js';

// `jarvis diagnose` on a log kept for days: when every problem it finds is old,
// it says how to look at recent lines only (--since), and that advice works.

const HOUR = 3_600_000;

function logFile(builder: LogBuilder): string {
  const file = join(mkdtempSync(join(tmpdir(), 'jarvis-since-')), 'system.log');
  builder.write(file);
  return file;
}

async function diagnose(args: string[]): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await diagnoseCommand(args, (t) => (text += t));
  return { code, text };
}

async function report(args: string[]): Promise<{ code: number; report: Report }> {
  const { code, text } = await diagnose([...args, '--json']);
  return { code, report: JSON.parse(text) as Report };
}

/** A stream that never ended three days ago, then an hour of healthy streams up to a minute ago. */
function oldProblemLog(): LogBuilder {
  const b = new LogBuilder({ clock: { now: Date.now() - 72 * HOUR } }).listening().advance(100);
  b.start('lost-long-ago', 'sess-old').advance(50).stream('ok-then', 'sess-other');
  b.advance(72 * HOUR - HOUR);
  for (let i = 0; i < 5; i++) b.stream(`ok-${i}`, `sess-${i}`).advance(10 * 60_000);
  return b;
}

describe('jarvis diagnose --since hint', () => {
  it('every problem is old: the report says how to look at recent lines only, and --since as it says finds none', async () => {
    const file = logFile(oldProblemLog());
    const { code, text } = await diagnose(['--log', file]);
    expect(code).toBe(1);
    expect(text).toContain('❌ Every stream_start has one stream_end');
    const hint = /Hint: (.*)/.exec(text)?.[1] ?? '';
    expect(hint).toContain('every problem above is shown by log lines');
    expect(hint).toContain('To look at recent lines only: jarvis diagnose --since ');
    expect(hint).toContain('--since 15m');
    // The hint comes before the result line.
    expect(text.indexOf('Hint:')).toBeLessThan(text.indexOf('Result:'));

    const since = /--since (\S+) \(/.exec(hint)?.[1] as string;
    expect(Date.parse(since)).toBeGreaterThan(Date.now() - 73 * HOUR);
    const recent = await diagnose(['--log', file, '--since', since]);
    expect(recent.code).toBe(0);
    expect(recent.text).toContain('Result: healthy');
    expect(recent.text).not.toContain('Hint:');
    const byDuration = await diagnose(['--log', file, '--since', '2h']);
    expect(byDuration.code).toBe(0);
    expect(byDuration.text).toContain('Result: healthy');
  });

  it('the JSON report carries the hint too', async () => {
    const { report: r } = await report(['--log', logFile(oldProblemLog())]);
    expect(r.problems).toBeGreaterThan(0);
    expect(r.hint).toContain('--since');
  });

  it('no hint when a problem is recent', async () => {
    const b = new LogBuilder({ clock: { now: Date.now() - 72 * HOUR } }).listening().advance(100);
    b.start('lost-long-ago', 'sess-old').advance(72 * HOUR - 5 * 60_000);
    b.start('lost-just-now', 'sess-new').advance(1000).stream('ok', 'sess-ok');
    const { code, report: r } = await report(['--log', logFile(b)]);
    expect(code).toBe(1);
    expect(r.hint).toBeUndefined();
    const { text } = await diagnose(['--log', logFile(b)]);
    expect(text).not.toContain('Hint:');
  });

  it('no hint when the log is healthy, however old', async () => {
    const b = new LogBuilder({ clock: { now: Date.now() - 72 * HOUR } }).listening().stream('ok', 'sess-ok');
    const { code, report: r } = await report(['--log', logFile(b)]);
    expect(code).toBe(0);
    expect(r.hint).toBeUndefined();
  });

  it('no hint once --since is given, even if what it keeps is old', async () => {
    const { code, report: r } = await report(['--log', logFile(oldProblemLog()), '--since', '7d']);
    expect(code).toBe(1);
    expect(r.since).not.toBeNull();
    expect(r.hint).toBeUndefined();
  });
});
