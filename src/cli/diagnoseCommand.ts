import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { logFileOf } from '../config.js';
import { parseArgs } from 'node:util';
import { runDiagnose } from '../diagnostics/diagnose.js';
import { DEFAULT_MAX_STREAMS, RecordCollector } from '../diagnostics/html/records.js';
import { reportJsonOf } from '../diagnostics/html/reportData.js';
import { fillReport, readReportTemplate, writeReport } from '../diagnostics/html/reportPage.js';
import { logFilesIn } from '../diagnostics/logAnalysis/logReader.js';
import { renderText } from '../diagnostics/report/render.js';
import { parseMs, parseSince, parseUrl, UsageError } from './args.js';

export const DIAGNOSE_USAGE = `Usage: jarvis diagnose [--log FILE|DIR]... [--url URL] [--since TIME] [--session ID] [--json] [--html FILE]

Checks the system log (and, with --url, a running server) for streams that
hang, mix or leak, and prints each check ✓ or ❌ with its evidence and fix
(docs/operations.md).
Several logs (a cluster's instances) are merged by time and also checked
across instances: split brain, leases lost, streams lost with a dead instance.

  --log FILE        the system log (default: $JARVIS_LOG_FILE, else logs/system.log,
                    else every *.log in logs/, as \`npm run cluster\` writes them);
                    repeat it for several instances' logs
  --log DIR         every *.log file in DIR (e.g. logs/ of \`npm run cluster\`)
  --url URL         also probe the running server (e.g. http://127.0.0.1:8000)
  --since TIME      only streams started since TIME (ISO time, or 30s, 15m, 2h, 1d ago)
  --session ID      only this session, and print its timeline
  --slow-ms MS      a first token slower than this is reported (default 5000)
  --model NAME      model for the --url probe request (default: the server's)
  --json            print the findings as JSON
  --html FILE       also write FILE: one self-contained page (no network, opens
                    from disk) with the streams as a timeline per session and
                    instance, every finding marked on it and linked to its lines;
                    for attaching to a bug report (docs/observability.md)
  --max-streams N   --html: the timeline keeps the last N streams (default ${DEFAULT_MAX_STREAMS});
                    the checks read every line whatever N

Exit code: 0 healthy, 1 problems found, 2 could not run.`;

/** Where `--html` takes its page from (tests give a page of their own; else the build's, see reportPage.ts). */
export interface DiagnoseCommandOptions {
  reportTemplate?: string;
}

/** Returns the exit code; writes the report to `out`. */
export async function diagnoseCommand(argv: string[], out: (text: string) => void, options: DiagnoseCommandOptions = {}): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      log: { type: 'string', multiple: true },
      url: { type: 'string' },
      since: { type: 'string' },
      session: { type: 'string' },
      'slow-ms': { type: 'string' },
      model: { type: 'string' },
      json: { type: 'boolean', default: false },
      html: { type: 'string' },
      'max-streams': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    out(DIAGNOSE_USAGE + '\n');
    return 0;
  }
  if (values.session !== undefined && values.session === '') throw new UsageError('--session: empty session id');
  if (values.html === '') throw new UsageError('--html: empty file name');
  const maxStreams = parseCount(values['max-streams']);
  if (maxStreams !== undefined && values.html === undefined) throw new UsageError('--max-streams: only with --html (the checks read every stream)');
  // The page is read first: a missing build fails before a long walk, not after it.
  const template = values.html === undefined ? undefined : await readReportTemplate(options.reportTemplate);
  const { files, others } = values.log ? { files: await logFiles(values.log), others: [] } : await defaultLogFiles();
  const sinceMs = values.since === undefined ? undefined : parseSince(values.since);
  const collector = template === undefined ? undefined : new RecordCollector({ sinceMs, session: values.session, maxStreams });
  const report = await runDiagnose({
    logFiles: files,
    url: parseUrl(values.url),
    sinceMs,
    session: values.session,
    slowFirstTokenMs: parseMs(values['slow-ms'], '--slow-ms'),
    model: values.model,
    sink: collector,
  });
  if (!values.json && others.length > 0) {
    out(`(${files.join(', ')} only; beside it: ${others.join(', ')}. --log ${dirname(files[0]!)} reads them all.)\n\n`);
  }
  out(values.json ? JSON.stringify(report, null, 2) + '\n' : renderText(report));
  if (template !== undefined && collector && values.html !== undefined) {
    const data = reportJsonOf(report, collector);
    const html = fillReport(template, data.json);
    await writeReport(values.html, html);
    if (!values.json) out(`\nReport: ${values.html} (${data.records} lifecycle lines, ${data.findings} findings, ${formatBytes(Buffer.byteLength(html))})\n`);
  }
  return report.exit_code;
}

function parseCount(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--max-streams: expected a positive whole number, got ${JSON.stringify(value)}`);
  return n;
}

function formatBytes(n: number): string {
  return n < 1024 * 1024 ? `${Math.ceil(n / 1024)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * Without --log: the log this machine's Jarvis writes ($JARVIS_LOG_FILE, else
 * logs/system.log). Where it does not exist but its directory holds other logs
 * (`npm run cluster` writes logs/i1.log …), those are read; where both exist,
 * the others are named, so a cluster's logs are never silently left out.
 */
async function defaultLogFiles(): Promise<{ files: string[]; others: string[] }> {
  const file = logFileOf(process.env);
  const inDir = await logFilesIn(dirname(file)).catch(() => [] as string[]);
  const exists = await stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!exists && inDir.length > 0) return { files: inDir, others: [] };
  return { files: [file], others: inDir.filter((f) => resolve(f) !== resolve(file)) };
}

/** `--log` values: files as given, directories as their *.log files. */
async function logFiles(values: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const value of values) {
    const isDir = await stat(value).then((s) => s.isDirectory(), () => false);
    if (!isDir) {
      files.push(value);
      continue;
    }
    const inside = await logFilesIn(value);
    if (inside.length === 0) throw new UsageError(`--log ${value}: a directory with no *.log files`);
    files.push(...inside);
  }
  return [...new Set(files)];
}
