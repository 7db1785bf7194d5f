import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ReportData } from '../../../src/shared/lifecycle.js';

/** The page `npm run build` makes (the browser tests' ensureUiBuilt builds it when the UI changed). */
export const BUILT_PAGE = fileURLToPath(new URL('../../../dist/ui/report.html', import.meta.url));

const OPEN = '<script type="application/json" id="jarvis-report-data">';

/** The page's embedded data: the text of its data element, as the page itself reads it. */
export function embedded(html: string): string {
  const start = html.indexOf(OPEN);
  if (start < 0) throw new Error('no report data element');
  const from = start + OPEN.length;
  return html.slice(from, html.indexOf('</script>', from));
}

export function readReport(file: string): { html: string; json: string; data: ReportData } {
  const html = readFileSync(file, 'utf8');
  const json = embedded(html);
  return { html, json, data: JSON.parse(json) as ReportData };
}

/** Line `n` (1-based) of a log file. */
export function lineOf(file: string, n: number): string {
  return readFileSync(file, 'utf8').split('\n')[n - 1] ?? '';
}
