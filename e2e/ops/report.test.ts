import { describe, expect, it } from 'vitest';
import { sampleReport } from '../../test/fixtures/report/sampleReport.js';
import { seriousViolations } from '../helpers/axe.js';
import { useJarvisBrowser } from '../helpers/jarvisBrowser.js';
import { openOffline } from '../helpers/offlinePage.js';
import { WAIT, bar, barClasses, screenshot, writeReport } from './opsPage.js';

// The report page (docs/observability.md "A report to attach"): dist/ui/report.html filled with a
// report, opened from disk with every network request refused: it draws the timeline, marks the
// report's findings on their streams with their lines, and shows the text report.

const ui = useJarvisBrowser();

describe('the report page', { timeout: 120_000 }, () => {
  for (const colorScheme of ['light', 'dark'] as const) {
    it(`renders a report from file:// with the network blocked (${colorScheme})`, async () => {
      const file = writeReport(sampleReport());
      const { page, refused, errors } = await openOffline(ui, file, { colorScheme });
      await page.getByRole('heading', { name: 'Jarvis stream report' }).waitFor(WAIT);

      // The runbook's streams, each with its outcome; the flagged ones are those findings are about.
      await bar(page, 'rapid-A').waitFor(WAIT);
      expect(await barClasses(page, 'rapid-A')).toContain('outcome-superseded');
      expect(await barClasses(page, 'rapid-E')).toContain('outcome-done');
      expect(await barClasses(page, 'stop-1')).toContain('outcome-stopped');
      expect(await barClasses(page, 'gone-1')).toContain('outcome-client_closed');
      expect(await barClasses(page, 'hang-1')).toEqual(expect.arrayContaining(['outcome-live', 'flagged']));
      expect(await barClasses(page, 'ov-new')).toContain('flagged');
      expect(await barClasses(page, 'rapid-B')).not.toContain('flagged');
      // Lanes per instance and session (two instances).
      expect(await page.locator('.tl-lane-label', { hasText: 'handover' }).count()).toBe(2);

      // The report's findings with their lines (source:n), and the model's own.
      const findings = page.locator('.tl-finding');
      expect(await findings.filter({ hasText: 'Orphaned stream hang-1' }).locator('.tl-line-ref').first().textContent()).toMatch(/^i2\.log:\d+$/);
      expect(await findings.filter({ hasText: 'Overlap' }).count()).toBe(1);
      expect(await findings.filter({ hasText: 'No end' }).count()).toBe(1);

      // A finding selects its stream: the detail panel shows its lines.
      await findings.filter({ hasText: 'Orphaned stream hang-1' }).getByRole('button').click();
      const detail = page.locator('.tl-detail');
      await detail.getByRole('heading', { name: 'Stream hang-1' }).waitFor(WAIT);
      expect(await detail.textContent()).toContain('upstream_routed trace=hang-1 upstream=slowbox');
      expect(await barClasses(page, 'hang-1')).toContain('selected');

      // Zoomable and scrollable; the text report is there.
      const width = () => page.locator('.tl-content').evaluate((el: any) => el.offsetWidth as number);
      const before = await width();
      await page.getByLabel('Zoom').selectOption('8');
      expect(await width()).toBeGreaterThan(before * 4);
      await page.getByLabel('Zoom').selectOption('1');
      await page.getByText('The text report (jarvis diagnose)').click();
      expect(await page.locator('.report-text pre').textContent()).toContain('orphaned streams: 1 (hang-1)');

      // Keyboard: a lane's button selects its latest stream.
      await page.getByRole('button', { name: /\bdeaf ?, 1 streams/ }).focus();
      await page.keyboard.press('Enter');
      await detail.getByRole('heading', { name: 'Stream deaf-1' }).waitFor(WAIT);
      expect(await detail.textContent()).toContain('unconfirmed in 4100 ms (grace_expired)');

      expect(await seriousViolations(page)).toEqual([]);
      await page.getByText('The text report (jarvis diagnose)').click();
      await page.getByRole('heading', { name: 'Jarvis stream report' }).scrollIntoViewIfNeeded();
      await page.locator('.tl-side').evaluate((el: any) => el.scrollTo(0, 0));
      await screenshot(page, `report-${colorScheme}`);
      expect(refused).toEqual([]);
      expect(errors).toEqual([]);
    });
  }

  it('says so when it holds no report', async () => {
    const context = await ui.newContext();
    const page = await context.newPage();
    const { fileURLToPath } = await import('node:url');
    await page.goto(`file://${fileURLToPath(new URL('../../dist/ui/report.html', import.meta.url))}`);
    await page.getByRole('alert').waitFor(WAIT);
    expect(await page.getByRole('alert').textContent()).toContain('This page has no report in it');
  });
});
