import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diagnoseCommand } from '../../src/cli/diagnoseCommand.js';
import { matrixCommand } from '../../src/cli/matrix/matrixCommand.js';
import { LONG_PROMPT, type RowResult } from '../../src/cli/matrix/matrixRun.js';
import type { Report } from '../../src/diagnostics/report/report.js';
import type { FakePlan } from '../helpers/fakes/fakeOllama.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { startEndBalance, waitForLog } from '../helpers/log.js';

// `jarvis matrix` against a real Jarvis in front of the fake Ollama: it passes on
// a healthy server (and `diagnose --url` and the one-minute grep script of docs/operations.md agree), and
// fails with a clear row when the upstream ignores aborts.

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});

/** Like a model: a long answer to "count to 300", a short one to anything else. */
function modelLike(extra: Partial<FakePlan> = {}) {
  return (prompt: string): FakePlan => ({ tokens: Array.from({ length: prompt === LONG_PROMPT ? 300 : 12 }, (_, i) => `${i} `), tokenMs: 10, ...extra });
}

async function matrix(args: string[]): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await matrixCommand(args, (t) => (text += t));
  return { code, text };
}

describe('jarvis matrix', () => {
  it('passes against a healthy Jarvis; then diagnose --url and the one-minute grep script report all clear', async () => {
    j = await startTestJarvis();
    j.fake!.plan = modelLike();
    const { code, text } = await matrix(['--url', j.url]);
    expect(text).toContain('All 5 tests passed.');
    expect(code).toBe(0);
    for (const test of ['Baseline', 'Stop', 'Rapid', 'Stress', 'Multi']) expect(text).toMatch(new RegExp(`^${test} +\\| .* \\| ✓ `, 'm'));
    expect(text).toMatch(/^Rapid .*\d+ ms \(1 clean\)/m);

    let out = '';
    const diagnoseCode = await diagnoseCommand(['--url', j.url, '--log', j.logFile, '--json'], (t) => (out += t));
    const report = JSON.parse(out) as Report;
    const notOk = report.sections.flatMap((s) => s.checks).filter((c) => c.status !== 'ok');
    expect(notOk).toEqual([]);
    expect(diagnoseCode).toBe(0);

    // The one-minute grep script (helpers/fixtures/runbook-diagnose.sh), on the same log once the probe has ended too.
    const probe = report.sections.find((s) => s.id === 'ui')!.checks.find((c) => c.id === 'wire_events')!.summary;
    const probeStream = /stream ([0-9a-f]+)\)/.exec(probe)?.[1] as string;
    await waitForLog(j.logFile, 'stream_end', { trace: probeStream });
    expect(startEndBalance(j.logFile).unmatched).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), 'jarvis-grep-script-'));
    mkdirSync(join(dir, 'logs'));
    copyFileSync(j.logFile, join(dir, 'logs', 'system.log'));
    const script = execFileSync('bash', [join(import.meta.dirname, '..', 'helpers', 'fixtures', 'runbook-diagnose.sh')], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(script).not.toContain('NEVER LOGGED');
    expect(script).toMatch(/register\(\) waiting\?\n[1-9]\d*\n/);
    expect(script).toContain('✓ No concurrent streams');
    expect(script).toContain('✓ Match!');
  });

  it('fails with a clear Rapid row when the upstream ignores aborts (supersede hits the cancel timeout)', async () => {
    j = await startTestJarvis({ JARVIS_CANCEL_TIMEOUT_MS: '300' });
    j.fake!.plan = modelLike({ ignoreAbort: true });
    const { code, text } = await matrix(['--url', j.url, '--json']);
    expect(code).toBe(1);
    const rows = (JSON.parse(text) as { pass: boolean; rows: RowResult[] }).rows;
    const rapid = rows.find((r) => r.test === 'Rapid')!;
    expect(rapid.pass).toBe(false);
    expect(rapid.result).toContain('hit the cancel timeout');
    expect(rapid.timings.supersedeWait).toContain('TIMEOUT');
    expect(rows.find((r) => r.test === 'Baseline')!.pass).toBe(true);

    const table = await matrix(['--url', j.url]);
    expect(table.text).toMatch(/^Rapid .*❌ FAIL: 1 supersede wait\(s\) hit the cancel timeout/m);
    // Other rows may or may not meet the timeout, depending on when the fake's connections are cut.
    expect(table.text).toMatch(/\d of 5 tests failed/);
  });

  it('exits 2 when no server answers', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const { code, text } = await matrix(['--url', `http://127.0.0.1:${port}`]);
    expect(code).toBe(2);
    expect(text).toContain('is the server running?');
  });
});
