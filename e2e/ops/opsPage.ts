import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { ReportData } from '../../src/shared/lifecycle.js';

// What the /ops and report page tests share: filling the built report page as `jarvis diagnose
// --html` does, and reading the timeline as a user sees it.

export const WAIT = { timeout: 20_000 } as const;

const root = fileURLToPath(new URL('../../', import.meta.url));

/** dist/ui/report.html with `data` in its placeholder (`<` escaped, as the report writer does), written to a temporary file. */
export function writeReport(data: ReportData): string {
  const page = readFileSync(join(root, 'dist/ui/report.html'), 'utf8');
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const path = join(mkdtempSync(join(tmpdir(), 'jarvis-report-')), 'report.html');
  writeFileSync(path, page.replace('<!--JARVIS_REPORT_DATA-->', () => json));
  return path;
}

/** The bar of stream `id`, as a locator. */
export function bar(page: Page, id: string) {
  return page.locator(`[data-stream="${id}"]`);
}

/** The classes of stream `id`'s bar (its outcome, `flagged`, `selected`). */
export async function barClasses(page: Page, id: string): Promise<string[]> {
  return ((await bar(page, id).getAttribute('class')) ?? '').split(/\s+/);
}

/** A screenshot into test-results/ (docs/images/ takes its pictures from there). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(root, `test-results/e2e-${name}.png`) });
}
