import { afterEach, describe, expect, it } from 'vitest';
import { diagnoseCommand } from '../../src/cli/diagnoseCommand.js';
import { matrixCommand } from '../../src/cli/matrix/matrixCommand.js';
import type { RowResult } from '../../src/cli/matrix/matrixRun.js';
import type { Report } from '../../src/diagnostics/report/report.js';
import type { TestJarvis } from '../helpers/jarvisServer.js';
import { startEndBalance } from '../helpers/log.js';
import { cancelVerdicts, debugStreams, ENGINE_HOW, startEmbeddedJarvis } from '../helpers/services/embeddedJarvis.js';

// The runbook's test case matrix (`jarvis matrix`, docs/operations.md) against a Jarvis on the
// embedded engine with the tiny GGUF: the same rows an operator runs against a real model, with
// every cancel the engine ran confirmed in the log, then `jarvis diagnose` on that server and log.

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});

describe('jarvis matrix on the embedded engine', () => {
  it('passes every row; each engine cancel is confirmed; diagnose finds nothing', async () => {
    // The matrix sends no max_tokens: the server's default bounds each answer (about a second of gibberish).
    j = await startEmbeddedJarvis({ JARVIS_MAX_TOKENS_DEFAULT: '800' });
    let text = '';
    const code = await matrixCommand(['--url', j.url, '--json'], (t) => (text += t));
    const result = JSON.parse(text) as { pass: boolean; rows: RowResult[] };
    expect(result.rows.filter((r) => !r.pass).map((r) => `${r.test}: ${r.problems.join('; ')}`)).toEqual([]);
    expect(result.rows.map((r) => r.test)).toEqual(['Baseline', 'Stop', 'Rapid', 'Stress', 'Multi']);
    expect(code).toBe(0);
    // The matrix's own engine column (from /metrics): the rows that cut an answer short say so, all confirmed.
    for (const test of ['Stop', 'Rapid', 'Stress']) expect(result.rows.find((r) => r.test === test)!.timings.engineStop).toMatch(/^\d+ confirmed$/);
    expect(result.rows.map((r) => r.unconfirmedCancels)).toEqual([0, 0, 0, 0, 0]);
    // The Stop row quotes the stop answer's verdict: the sequence was free again.
    expect(result.rows.find((r) => r.test === 'Stop')!.result).toMatch(/; engine confirmed in \d+ ms \(sequence_free\)$/);

    const log = j.logFile;
    await expect.poll(() => startEndBalance(log).unmatched, { timeout: 10_000 }).toEqual([]);
    // Stop, Rapid's A and Stress's A cancelled the engine mid-answer (Stress's B-D may end before reaching it).
    const verdicts = cancelVerdicts(log);
    expect(verdicts.filter((v) => v.how === ENGINE_HOW).length).toBeGreaterThanOrEqual(3);
    expect(verdicts.filter((v) => v.cancel !== 'confirmed')).toEqual([]);
    await expect.poll(() => debugStreams(j!.url), { timeout: 10_000 }).toEqual({ streams: [], lingering: [] });

    let out = '';
    const diagnoseCode = await diagnoseCommand(['--url', j.url, '--log', log, '--json'], (t) => (out += t));
    const report = JSON.parse(out) as Report;
    expect(report.sections.flatMap((s) => s.checks).filter((c) => c.status !== 'ok')).toEqual([]);
    expect(diagnoseCode).toBe(0);
  }, 120_000);
});
