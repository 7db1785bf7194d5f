import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagnoseCommand } from '../../src/cli/diagnoseCommand.js';
import type { Check, Report } from '../../src/diagnostics/report/report.js';
import { LogBuilder } from '../helpers/fixtures/logBuilder.js';

// `jarvis diagnose`'s "Engine kept generating after a Stop" on staged logs
// (docs/backends.md "Stop at the engine"); the real runaway is in test/backends/slotsJarvis.test.ts.

async function engineChecks(builder: LogBuilder): Promise<{ code: number; byId: Map<string, Check> }> {
  const file = join(mkdtempSync(join(tmpdir(), 'jarvis-diagnose-engine-')), 'system.log');
  builder.write(file);
  let text = '';
  const code = await diagnoseCommand(['--log', file, '--json'], (t) => (text += t));
  const section = (JSON.parse(text) as Report).sections.find((s) => s.id === 'engine');
  return { code, byId: new Map((section?.checks ?? []).map((c) => [c.id, c] as const)) };
}

const UP = 'http://127.0.0.1:8080/v1';

function stopped(b: LogBuilder, trace: string, cancel: Record<string, string>): LogBuilder {
  b.start(trace, `s-${trace}`, { backend: 'openai' }).advance(100).cancelled(trace, `s-${trace}`, 'stopped').advance(5);
  return b.end(trace, `s-${trace}`, 'stopped', cancel).advance(100);
}

describe('jarvis diagnose: engines after a Stop', () => {
  it('names a slot that kept generating, with its server, when it stopped, and one Jarvis gave up on', async () => {
    const b = new LogBuilder().listening().advance(100);
    stopped(b, 't1', { cancel: 'confirmed', cancel_how: 'slot_idle' });
    stopped(b, 't2', { cancel: 'unconfirmed', cancel_how: 'slot_still_processing' });
    b.line('warn', 'engine_still_generating', { stream: 't2', slot: '3', task: '41', upstream: UP, ms: 2001 }).advance(4000);
    b.line('info', 'engine_stopped_late', { stream: 't2', slot: '3', upstream: UP, ms: 6001 });
    stopped(b, 't3', { cancel: 'unconfirmed', cancel_how: 'slot_still_processing' });
    b.line('warn', 'engine_still_generating', { stream: 't3', slot: '1', task: '42', upstream: UP, ms: 2000 }).advance(600_000);
    b.line('warn', 'engine_watch_gave_up', { stream: 't3', slot: '1', upstream: UP, ms: 600_000, why: 'still_processing' });
    // The embedded engine's own lines: a sequence that outlasted the grace, then ended.
    stopped(b, 't4', { cancel: 'unconfirmed', cancel_how: 'grace_expired' });
    b.line('warn', 'engine_stopped', { trace: 't4', where: 'sequence 1 of tiny', verdict: 'unconfirmed', how: 'grace_expired', ms: 2000 }).advance(500);
    b.line('warn', 'engine_stopped_late', { trace: 't4', where: 'sequence 1 of tiny', ms: 2500 });
    const { code, byId } = await engineChecks(b);
    expect(code).toBe(1);
    const kept = byId.get('engine_kept_generating');
    expect(kept).toMatchObject({ status: 'problem', count: 3 });
    expect(kept?.summary).toContain('2 stopped later');
    expect(kept?.summary).toContain('1 still running when Jarvis stopped watching');
    expect(kept?.evidence.map((e) => e.text)).toEqual([
      `stream t2: slot 3 of ${UP} kept generating after the Stop (stopped 6.0 s after the Stop)`,
      `stream t3: slot 1 of ${UP} kept generating after the Stop (still processing when Jarvis stopped watching)`,
      'stream t4: sequence 1 of tiny kept generating after the Stop (stopped 2.5 s after the Stop)',
    ]);
    expect(kept?.fix).toContain('vllm-project/vllm#54947');
    expect(kept?.fix).toContain('max_tokens');
    // The unconfirmed cancels were asked of the engine (not no_probe): a problem too.
    expect(byId.get('engine_stop_unconfirmed')).toMatchObject({ status: 'problem', count: 3 });
  });

  it('confirmed cancels, and unconfirmed ones whose engine cannot be asked, are no finding', async () => {
    const b = new LogBuilder().listening().advance(100);
    stopped(b, 'c1', { cancel: 'confirmed', cancel_how: 'slot_idle' });
    stopped(b, 'c2', { cancel: 'unconfirmed', cancel_how: 'no_probe' });
    const { code, byId } = await engineChecks(b);
    expect(code).toBe(0);
    expect(byId.get('engine_kept_generating')).toMatchObject({ status: 'ok' });
    expect(byId.get('engine_stop_unconfirmed')).toMatchObject({ status: 'ok', summary: '1 confirmed; 1 unconfirmed because the engine cannot be asked (no_probe)' });
  });
});
