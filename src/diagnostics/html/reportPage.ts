import { randomUUID } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The report page (docs/observability.md "A report to attach"): `npm run build` makes
// dist/ui/report.html, one self-contained page (its script and styles inlined, no network)
// with a JSON placeholder; `jarvis diagnose --html` fills it and writes one file to attach.

export const REPORT_PLACEHOLDER = '<!--JARVIS_REPORT_DATA-->';

/**
 * Where the built page is, relative to this module: from dist/ (the installed `jarvis`,
 * dist/diagnostics/html/) it is dist/ui/report.html; from the sources (tsx) the build's copy.
 */
export function reportTemplateCandidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  return [...new Set([resolve(here, '../../ui/report.html'), resolve(here, '../../../dist/ui/report.html')])];
}

export class ReportTemplateMissing extends Error {
  constructor(readonly looked: string[]) {
    super(`the report page is not built (looked for ${looked.join(', ')}): build the UI first: npm run build`);
  }
}

export async function readReportTemplate(path?: string): Promise<string> {
  const candidates = path === undefined ? reportTemplateCandidates() : [path];
  for (const candidate of candidates) {
    const text = await readFile(candidate, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw err;
    });
    if (text === undefined) continue;
    if (!text.includes(REPORT_PLACEHOLDER)) throw new Error(`${candidate} has no ${REPORT_PLACEHOLDER}: it is not the report page (rebuild: npm run build)`);
    return text;
  }
  throw new ReportTemplateMissing(candidates);
}

/**
 * ReportData as the text of a `<script type="application/json">`: compact JSON with
 * every `<` escaped, so a log value holding `</script>` or `<!--` cannot end the
 * script element, and U+2028/U+2029 escaped for older readers of the text as script.
 */
const ESCAPES: Record<string, string> = { '<': '\\u003c', '\u2028': '\\u2028', '\u2029': '\\u2029' };

export function embedJson(data: unknown): string {
  return JSON.stringify(data).replace(/[<\u2028\u2029]/g, (c) => ESCAPES[c] as string);
}

/** The page with its data: `json` is ReportData already escaped (embedJson). */
export function fillReport(template: string, json: string): string {
  const at = template.indexOf(REPORT_PLACEHOLDER);
  // Cut and joined, not String.replace: a `$&` in the data must stay as it is.
  return template.slice(0, at) + json + template.slice(at + REPORT_PLACEHOLDER.length);
}

/** Writes the page beside its final name, then renames it: a reader never sees half a report. */
export async function writeReport(file: string, html: string): Promise<void> {
  const target = resolve(file);
  const temp = join(dirname(target), `.${randomUUID().slice(0, 8)}.report.tmp`);
  try {
    await writeFile(temp, html);
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
