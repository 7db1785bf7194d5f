import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagnoseCommand } from '../../src/cli/diagnoseCommand.js';
import type { Report, Section } from '../../src/diagnostics/report/report.js';
import { LogBuilder } from '../helpers/fixtures/logBuilder.js';

// `jarvis diagnose` groups what the log says about each model server (docs/operations.md,
// docs/upstreams.md) on staged logs, written in the server's own line format.

async function diagnose(builder: LogBuilder, ...args: string[]): Promise<{ code: number; report: Report; text: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'jarvis-diagnose-upstreams-')), 'system.log');
  builder.write(file);
  let json = '';
  const code = await diagnoseCommand(['--log', file, '--json', ...args], (t) => (json += t));
  let text = '';
  await diagnoseCommand(['--log', file, ...args], (t) => (text += t));
  return { code, report: JSON.parse(json) as Report, text };
}

const section = (report: Report): Section | undefined => report.sections.find((s) => s.id === 'upstreams');

/** A stream the router sent to `upstream` (stream_start names none: it may queue first). */
function routed(b: LogBuilder, trace: string, upstream: string, end: Record<string, string | number> = {}): LogBuilder {
  b.start(trace, `s-${trace}`).line('info', 'upstream_routed', { trace, upstream, waited_ms: 0, affinity: 'new' }).advance(200);
  return b.end(trace, `s-${trace}`, 'done', { upstream, ...end }).advance(100);
}

describe('jarvis diagnose: model servers', () => {
  it('one section per server: streams, errors by code, failovers from it, periods down, p50/p95 TTFT', async () => {
    const b = new LogBuilder().listening().advance(100);
    routed(b, 'a1', 'gpu1', { ttft_ms: 100 });
    // gpu1 refuses a2 before its first token: marked down, a2 answered by gpu2.
    b.start('a2', 's-a2').line('info', 'upstream_routed', { trace: 'a2', upstream: 'gpu1', waited_ms: 0, affinity: 'new' });
    b.line('warn', 'upstream_down', { upstream: 'gpu1', error: 'connect ECONNREFUSED 10.0.0.5:11434' });
    b.line('warn', 'upstream_failover', { trace: 'a2', from: 'gpu1', code: 'upstream_unavailable', error: 'Jarvis cannot reach Ollama', attempt: 1 });
    b.line('info', 'upstream_routed', { trace: 'a2', upstream: 'gpu2', waited_ms: 0, affinity: 'moved' }).advance(300);
    b.end('a2', 's-a2', 'done', { upstream: 'gpu2', ttft_ms: 300 }).advance(100);
    routed(b, 'a3', 'gpu2', { ttft_ms: 200 });
    // Said again while down (a failed retry, another instance of a cluster): the same period, not a second one.
    b.line('warn', 'upstream_down', { upstream: 'gpu1', error: 'connect ECONNREFUSED 10.0.0.5:11434' }).advance(9_000);
    b.line('info', 'upstream_up', { upstream: 'gpu1', down_ms: 9_600 });
    // After its first token a stream never moves: it ends with a typed error on its server.
    b.start('a4', 's-a4').line('info', 'upstream_routed', { trace: 'a4', upstream: 'gpu1', waited_ms: 0, affinity: 'kept' }).advance(50);
    b.line('warn', 'upstream_error', { trace: 'a4', session: 's-a4', code: 'upstream_error', error: 'socket hang up', upstream: 'gpu1' });
    b.end('a4', 's-a4', 'error', { upstream: 'gpu1', error_code: 'upstream_error', ttft_ms: 30 }).advance(100);
    // A line of a log written before there were several servers: in no server's count.
    b.stream('old1', 's-old').advance(100);
    b.line('warn', 'upstream_down', { upstream: 'gpu2', error: 'HTTP 503' });
    const { code, report, text } = await diagnose(b);
    expect(code).toBe(1);
    const s = section(report);
    expect(s?.title).toBe('Model servers (upstreams)');
    const [gpu1, gpu2] = s?.checks ?? [];
    expect(gpu1).toMatchObject({ id: 'upstream_gpu1', title: 'Model server gpu1', status: 'problem', count: 3 });
    expect(gpu1?.summary).toBe(
      '2 streams; TTFT p50=30 ms p95=100 ms; errors: upstream_error×1; 1 prompt failed over from it (upstream_unavailable×1); down 1× (9600 ms in all, longest 9600 ms)',
    );
    expect(gpu1?.evidence.map((e) => e.text)).toEqual([
      'gpu1 was down for 9.6 s',
      'a2: upstream_unavailable on gpu1 before the first token, tried again on another server (attempt 1)',
      'a4: upstream_error socket hang up',
    ]);
    expect(gpu1?.fix).toContain('JARVIS_UPSTREAM_TRIES');
    expect(gpu2).toMatchObject({ id: 'upstream_gpu2', status: 'problem', count: 1 });
    expect(gpu2?.summary).toMatch(/^2 streams; TTFT p50=200 ms p95=300 ms; down 1×, still down at the end of the log \(since 2026-01-26T10:00:\d\d\.\d{3}Z\)$/);
    expect(gpu2?.evidence[0]?.lines?.[0]).toContain('upstream_down upstream=gpu2');
    // The text report numbers it after the others.
    expect(text).toMatch(/\n6\. Model servers \(upstreams\)\n {2}❌ Model server gpu1: 2 streams;/);
  });

  it('a healthy server is ✓; --since leaves out what came before; a log without upstream= has no such section', async () => {
    const b = new LogBuilder().listening().advance(100);
    routed(b, 'e1', 'gpu1', { ttft_ms: 80 });
    b.line('warn', 'upstream_down', { upstream: 'gpu2', error: 'HTTP 502' }).advance(1000);
    b.line('info', 'upstream_up', { upstream: 'gpu2', down_ms: 1000 }).advance(60_000);
    const since = new Date(Date.parse('2026-01-26T10:00:00.000Z') + 30_000).toISOString();
    routed(b, 'e2', 'gpu2', { ttft_ms: 90 });
    const all = section((await diagnose(b)).report);
    expect(all?.checks.map((c) => [c.id, c.status])).toEqual([
      ['upstream_gpu1', 'ok'],
      ['upstream_gpu2', 'problem'],
    ]);
    expect(all?.checks[0]?.summary).toBe('1 stream; TTFT p50=80 ms p95=80 ms; never down, no errors');
    const recent = await diagnose(b, '--since', since);
    expect(recent.code).toBe(0);
    expect(section(recent.report)?.checks).toEqual([expect.objectContaining({ id: 'upstream_gpu2', status: 'ok', summary: '1 stream; TTFT p50=90 ms p95=90 ms; never down, no errors' })]);

    const old = new LogBuilder().listening().stream('o1', 's-o1').stream('o2', 's-o2');
    expect(section((await diagnose(old)).report)).toBeUndefined();
  });
});
