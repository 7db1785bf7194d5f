import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagnoseCommand } from '../../src/cli/diagnoseCommand.js';
import type { Check, Report } from '../../src/diagnostics/report/report.js';
import { LogBuilder } from '../helpers/fixtures/logBuilder.js';

// `jarvis diagnose` on synthetic logs, one per failure docs/operations.md describes, and
// on healthy logs, including the one that fools the one-minute grep script (helpers/fixtures/runbook-diagnose.sh).

function tmpLog(builder?: LogBuilder): string {
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-diagnose-'));
  const file = join(dir, 'system.log');
  if (builder) builder.write(file);
  return file;
}

async function diagnose(args: string[]): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await diagnoseCommand(args, (t) => (text += t));
  return { code, text };
}

async function report(args: string[]): Promise<{ code: number; report: Report; byId: Map<string, Check> }> {
  const { code, text } = await diagnose([...args, '--json']);
  const parsed = JSON.parse(text) as Report;
  const byId = new Map(parsed.sections.flatMap((s) => s.checks.map((c) => [c.id, c] as const)));
  return { code, report: parsed, byId };
}

function problems(byId: Map<string, Check>): string[] {
  return [...byId.values()].filter((c) => c.status === 'problem').map((c) => c.id);
}

/** Several sessions doing what users do: sequential prompts, a supersede, a stop. */
function healthyLog(): LogBuilder {
  const b = new LogBuilder().listening().advance(100);
  b.stream('a1', 'sess-seq').advance(2000).stream('a2', 'sess-seq').advance(500);
  b.start('r1', 'sess-rapid').advance(50).supersede('r1', 'r2', 'sess-rapid').advance(100);
  b.start('s1', 'sess-stop').advance(200).line('info', 'session_stop', { session: 'sess-stop', stopped: true }).cancelled('s1', 'sess-stop', 'stopped').advance(3);
  b.end('s1', 'sess-stop', 'stopped');
  // The last two stream_start lines belong to one session, one after the other.
  b.advance(1000).stream('b1', 'sess-last').advance(1000).stream('b2', 'sess-last');
  return b;
}

describe('jarvis diagnose on a healthy log', () => {
  it('reports no problem, and the sections in order', async () => {
    const file = tmpLog(healthyLog());
    const { code, report: r, byId } = await report(['--log', file]);
    expect(problems(byId)).toEqual([]);
    expect(code).toBe(0);
    expect(r.sections.map((s) => s.id)).toEqual(['deadlock', 'delays', 'ui', 'logs', 'engine']);
    expect(byId.get('register_waits')?.summary).toContain('1 superseding streams, every one waited: 1 clean');
    expect(byId.get('no_overlap')?.status).toBe('ok');
    expect(byId.get('start_has_end')?.summary).toContain('7 stream_start, 7 stream_end');
    // Without --url the live checks say what they need instead of passing silently.
    expect(byId.get('wire_events')).toMatchObject({ status: 'skipped' });
    expect(byId.get('wire_events')?.summary).toContain('--url');
  });

  it('is not fooled by one session used twice in a row, unlike the one-minute grep script', async () => {
    const file = tmpLog(healthyLog());
    const { text } = await diagnose(['--log', file]);
    expect(text).toMatch(/✓ No two streams of one session generate at once/);
    expect(text).toContain('Result: healthy');
    // The one-minute grep script compares only the last two stream_start lines.
    const dir = join(file, '..');
    mkdirSync(join(dir, 'logs'), { recursive: true });
    healthyLog().write(join(dir, 'logs', 'system.log'));
    const script = execFileSync('bash', [join(import.meta.dirname, '..', 'helpers', 'fixtures', 'runbook-diagnose.sh')], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(script).toContain('CONCURRENT STREAMS DETECTED');
  });
});

describe('jarvis diagnose names each failure', () => {
  it('register() not waiting: a new stream starts while the old one is live, and no prev_stream_* line', async () => {
    const b = new LogBuilder().listening();
    b.start('old1', 'sess-x').advance(100).start('new1', 'sess-x').advance(200).end('old1', 'sess-x', 'done').advance(100).end('new1', 'sess-x');
    const { code, byId } = await report(['--log', tmpLog(b)]);
    expect(code).toBe(1);
    expect(problems(byId)).toEqual(expect.arrayContaining(['register_waits', 'no_overlap']));
    const check = byId.get('register_waits') as Check;
    expect(check.summary).toContain('1 of 1 superseding streams started without waiting');
    expect(check.evidence[0]?.text).toContain('new1 started while old1');
    expect(check.fix).toContain('src/streams/registry.ts');
  });

  it('overlapping streams: the old stream ends after the new one was told it had finished', async () => {
    const b = new LogBuilder().listening();
    b.start('o1', 'sess-o').advance(100).start('o2', 'sess-o').cancelled('o1', 'sess-o').waited('o1', 'o2', 'sess-o', 1).advance(500);
    b.end('o1', 'sess-o', 'superseded').advance(100).end('o2', 'sess-o');
    const { byId } = await report(['--log', tmpLog(b)]);
    expect(problems(byId)).toEqual(['no_overlap']);
    expect(byId.get('no_overlap')?.evidence[0]?.text).toContain('o2 started generating while o1 was still generating');
    expect(byId.get('no_overlap')?.evidence[0]?.lines?.[0]).toContain('stream_start trace=o1');
  });

  it('an orphan: stream_start without stream_end, with its error line', async () => {
    const b = new LogBuilder().listening().stream('ok1', 'sess-1');
    b.start('lost1', 'sess-2').advance(20).line('warn', 'upstream_error', { trace: 'lost1', session: 'sess-2', code: 'upstream_error', error: 'socket hang up' });
    b.advance(60_000).stream('ok2', 'sess-3');
    const { code, byId } = await report(['--log', tmpLog(b)]);
    expect(code).toBe(1);
    const check = byId.get('start_has_end') as Check;
    expect(check.status).toBe('problem');
    expect(check.summary).toContain('1 without stream_end');
    expect(check.evidence[0]?.text).toContain('lost1 (session sess-2)');
    expect(check.evidence[0]?.text).toContain('pass --url');
    expect(check.evidence[0]?.lines?.join('\n')).toContain('socket hang up');
  });

  it('streams lost when the server restarted (kill -9): live at a later server_listening', async () => {
    const b = new LogBuilder().listening().start('k1', 'sess-k').advance(1000).listening().stream('k2', 'sess-k');
    const { byId } = await report(['--log', tmpLog(b)]);
    expect(byId.get('start_has_end')?.summary).toContain('1 lost at a server restart');
  });

  it('missing registry pop: stream_end without stream_registry_pop_*', async () => {
    const b = new LogBuilder().listening().start('p1', 'sess-p').advance(100).endOnly('p1', 'sess-p');
    const { byId } = await report(['--log', tmpLog(b)]);
    expect(problems(byId)).toEqual(['registry_pop']);
    expect(byId.get('registry_pop')?.summary).toContain('1 without a registry pop line');
  });

  it('timeouts only: every supersede waited out the cancel timeout; reported as a delay, not an overlap', async () => {
    const b = new LogBuilder().listening();
    for (const s of ['t1', 't2']) {
      b.start(`${s}a`, s).advance(100).start(`${s}b`, s).cancelled(`${s}a`, s).advance(2000).timedOut(`${s}a`, `${s}b`, s).advance(10);
      b.end(`${s}a`, s, 'superseded', { upstream_close: 'forced', upstream_close_ms: 2010 }).advance(300).end(`${s}b`, s);
    }
    const { byId } = await report(['--log', tmpLog(b)]);
    expect(problems(byId)).toEqual(['supersede_wait', 'upstream_abort']);
    expect(byId.get('supersede_wait')?.summary).toContain('all 2 supersede waits hit the cancel timeout, none finished cleanly');
    expect(byId.get('supersede_wait')?.fix).toContain('JARVIS_CANCEL_TIMEOUT_MS');
    expect(byId.get('no_overlap')?.summary).toContain('2 ran on after a cancel timeout');
    expect(byId.get('register_waits')?.status).toBe('ok');
  });

  it('a cancellation not followed by an end: the stream is stuck after its cancel', async () => {
    const b = new LogBuilder().listening().start('c1', 'sess-c').advance(500).cancelled('c1', 'sess-c', 'stopped').advance(30_000).stream('c2', 'sess-d');
    const { byId } = await report(['--log', tmpLog(b)]);
    expect(problems(byId)).toEqual(['start_has_end', 'cancel_ends']);
    expect(byId.get('cancel_ends')?.evidence[0]?.text).toContain('c1 was cancelled (stopped) and never logged stream_end');
    expect(byId.get('cancel_ends')?.fix).toContain('src/streams/chatStream.ts');
  });

  it('no logs: a missing file and an empty file', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'jarvis-diagnose-')), 'nope.log');
    const a = await report(['--log', missing]);
    expect(a.code).toBe(1);
    expect(problems(a.byId)).toEqual(['log_file']);
    expect(a.byId.get('log_file')?.summary).toContain('no such file');
    expect(a.byId.get('register_waits')?.status).toBe('skipped');

    const empty = tmpLog();
    writeFileSync(empty, '');
    const b = await report(['--log', empty]);
    expect(problems(b.byId)).toEqual(['log_lines']);
  });
});

describe('jarvis diagnose options', () => {
  it('--since leaves out streams that started before the window', async () => {
    const b = new LogBuilder().listening().start('early', 'sess-e').advance(3_600_000).stream('late', 'sess-l');
    const file = tmpLog(b);
    expect((await report(['--log', file])).code).toBe(1);
    const windowed = await report(['--log', file, '--since', '2026-01-26T10:30:00Z']);
    expect(windowed.code).toBe(0);
    expect(windowed.byId.get('start_has_end')?.summary).toContain('1 stream_start, 1 stream_end');
  });

  it('--session prints that session\'s story as a timeline, including lines that carry only its trace', async () => {
    const file = tmpLog(healthyLog());
    const { text, code } = await diagnose(['--log', file, '--session', 'sess-rapid']);
    expect(code).toBe(0);
    const timeline = text.slice(text.indexOf('Timeline of session sess-rapid'));
    expect(timeline).toMatch(/\+\s+0 ms {2}INFO {2}stream_start trace=r1 session=sess-rapid/);
    expect(timeline).toContain('prev_stream_finished_cleanly trace=r1 new_trace=r2');
    expect(timeline).toContain('stream_registry_pop_success trace=r2');
    expect(timeline).not.toContain('sess-seq');
  });

  it('the jarvis bin: exit 0 healthy, 1 problems, 2 on a bad flag', () => {
    const run = (args: string[]) => {
      try {
        return { code: 0, out: execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', '..', 'src', 'cli', 'jarvis.ts'), 'diagnose', ...args], { cwd: join(import.meta.dirname, '..', '..'), encoding: 'utf8', stdio: 'pipe' }) };
      } catch (err) {
        const e = err as { status: number; stdout: string; stderr: string };
        return { code: e.status, out: e.stdout + e.stderr };
      }
    };
    expect(run(['--log', tmpLog(healthyLog())]).code).toBe(0);
    const bad = run(['--log', tmpLog(new LogBuilder().start('x', 'y'))]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('❌ Every stream_start has one stream_end');
    const usage = run(['--bogus']);
    expect(usage.code).toBe(2);
    expect(usage.out).toContain('Usage: jarvis diagnose');
  });
});
