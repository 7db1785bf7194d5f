import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeReportLogs, ORPHAN, type ReportLogs } from '../../test/diagnostics/html/reportLogs.js';
import { useJarvisBrowser } from '../helpers/jarvisBrowser.js';
import { openOffline } from '../helpers/offlinePage.js';

// `jarvis diagnose --html` end to end (docs/observability.md "A report to attach"): the command
// run as a user runs it, on the logs of a real Jarvis run and a second instance's log with a
// planted orphan; the file it writes opened from disk in Chromium with every network request
// refused: the streams are drawn, the orphan flagged, and its finding points at its line.

const root = fileURLToPath(new URL('../../', import.meta.url));
const WAIT = { timeout: 20_000 } as const;
const ui = useJarvisBrowser();

function jarvis(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(root, 'src/cli/jarvis.ts'), ...args], { cwd: root, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('jarvis diagnose --html, opened in a browser', { timeout: 120_000 }, () => {
  let logs: ReportLogs;
  let file: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jarvis-report-e2e-'));
    logs = await writeReportLogs(dir);
    file = join(dir, 'report.html');
    const run = await jarvis(['diagnose', '--log', logs.jarvisLog, '--log', logs.orphanLog, '--html', file]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`Report: ${file}`);
  }, 60_000);

  it('shows the streams offline and flags the planted orphan', async () => {
    const { context, page, refused, errors } = await openOffline(ui, file);

    const bar = (id: string) => page.locator(`[data-stream="${id}"]`);
    const classes = async (id: string) => ((await bar(id).getAttribute('class')) ?? '').split(/\s+/);
    for (const id of [logs.ids.a, logs.ids.b, logs.ids.c, ORPHAN]) await bar(id).waitFor(WAIT);
    expect(await classes(logs.ids.a)).toContain('outcome-superseded');
    expect(await classes(logs.ids.c)).toContain('outcome-done');
    expect(await classes(ORPHAN)).toEqual(expect.arrayContaining(['outcome-live', 'flagged']));
    expect(await classes(logs.ids.c)).not.toContain('flagged');

    // The orphan's finding names its line in the second log.
    const finding = page.locator('.tl-finding', { hasText: ORPHAN }).first();
    await finding.waitFor(WAIT);
    expect(await finding.locator('.tl-line-ref').first().textContent()).toMatch(/^i2(\.log)?:2$/);
    // The hostile session value is text on the page, not markup that ran.
    const scripts = await page.locator('script').count();
    const empty = await context.newPage();
    await empty.goto(`file://${join(root, 'dist/ui/report.html')}`);
    expect(scripts).toBe(await empty.locator('script').count());
    expect(refused).toEqual([]);
    expect(errors).toEqual([]);
  });
});
