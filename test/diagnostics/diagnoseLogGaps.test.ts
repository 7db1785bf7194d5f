import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diagnoseCommand } from '../../src/cli/diagnoseCommand.js';
import type { Check, Report } from '../../src/diagnostics/report/report.js';
import { LogBuilder } from '../helpers/fixtures/logBuilder.js';
import { spawnJarvis, type JarvisProcess } from '../helpers/jarvisProcess.js';
import { waitForLog } from '../helpers/log.js';

// `jarvis diagnose` reports the gaps a log can show: lines the server had to drop,
// and a run that ended without shutdown_complete (killed or crashed).

async function logGaps(file: string): Promise<{ code: number; check: Check }> {
  let text = '';
  const code = await diagnoseCommand(['--log', file, '--json'], (t) => (text += t));
  const report = JSON.parse(text) as Report;
  const check = report.sections.flatMap((s) => s.checks).find((c) => c.id === 'log_gaps');
  if (!check) throw new Error('no log_gaps check in the report');
  return { code, check };
}

let jarvis: JarvisProcess | undefined;
afterEach(() => {
  if (jarvis && jarvis.proc.exitCode === null) jarvis.proc.kill('SIGKILL');
  jarvis = undefined;
});

describe('jarvis diagnose: gaps in the log', () => {
  it('a real server killed with SIGKILL, then started again: the restart without shutdown_complete is a problem', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'jarvis-gaps-')), 'system.log');
    jarvis = await spawnJarvis({ JARVIS_LOG_FILE: file, JARVIS_BACKEND: 'demo' });
    await waitForLog(file, 'server_listening');
    jarvis.proc.kill('SIGKILL');
    await jarvis.exited;
    jarvis = await spawnJarvis({ JARVIS_LOG_FILE: file, JARVIS_BACKEND: 'demo' });
    jarvis.proc.kill('SIGTERM');
    await jarvis.exited;

    const { code, check } = await logGaps(file);
    expect(check.status).toBe('problem');
    expect(check.summary).toContain('1 restarts without shutdown_complete');
    expect(check.evidence[0]?.lines?.some((l) => l.includes('server_listening'))).toBe(true);
    expect(code).toBe(1);
  });

  it('a clean stop and start is no gap', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'jarvis-gaps-')), 'system.log');
    for (let run = 0; run < 2; run++) {
      jarvis = await spawnJarvis({ JARVIS_LOG_FILE: file, JARVIS_BACKEND: 'demo' });
      jarvis.proc.kill('SIGTERM');
      await jarvis.exited;
    }
    const { check } = await logGaps(file);
    expect(check).toMatchObject({ status: 'ok' });
    expect(check.summary).toContain('2 server starts');
  });

  it('log_lines_dropped lines are added up and shown', async () => {
    const b = new LogBuilder().listening().advance(100);
    b.stream('a1', 's1').advance(5000);
    b.line('warn', 'log_lines_dropped', { count: 120, error: 'ENOSPC', file: 'logs/system.log' }).advance(100);
    b.stream('a2', 's1').advance(1000);
    b.line('warn', 'log_lines_dropped', { count: 3, error: 'EIO', file: 'logs/system.log' });
    const file = join(mkdtempSync(join(tmpdir(), 'jarvis-gaps-')), 'system.log');
    b.write(file);
    const { check } = await logGaps(file);
    expect(check.status).toBe('problem');
    expect(check.summary).toContain('123 lines dropped');
    expect(check.evidence).toHaveLength(2);
    expect(check.fix).toContain('jarvis_log_lines_dropped_total');
  });
});
