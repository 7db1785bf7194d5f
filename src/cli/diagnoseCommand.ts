import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { logFileOf } from '../config.js';
import { parseArgs } from 'node:util';
import { runDiagnose } from '../diagnostics/diagnose.js';
import { logFilesIn } from '../diagnostics/logAnalysis/logReader.js';
import { renderText } from '../diagnostics/report/render.js';
import { parseMs, parseSince, parseUrl, UsageError } from './args.js';

export const DIAGNOSE_USAGE = `Usage: jarvis diagnose [--log FILE|DIR]... [--url URL] [--since TIME] [--session ID] [--json]

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

Exit code: 0 healthy, 1 problems found, 2 could not run.`;

/** Returns the exit code; writes the report to `out`. */
export async function diagnoseCommand(argv: string[], out: (text: string) => void): Promise<number> {
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
  const { files, others } = values.log ? { files: await logFiles(values.log), others: [] } : await defaultLogFiles();
  const report = await runDiagnose({
    logFiles: files,
    url: parseUrl(values.url),
    sinceMs: values.since === undefined ? undefined : parseSince(values.since),
    session: values.session,
    slowFirstTokenMs: parseMs(values['slow-ms'], '--slow-ms'),
    model: values.model,
  });
  if (!values.json && others.length > 0) {
    out(`(${files.join(', ')} only; beside it: ${others.join(', ')}. --log ${dirname(files[0]!)} reads them all.)\n\n`);
  }
  out(values.json ? JSON.stringify(report, null, 2) + '\n' : renderText(report));
  return report.exit_code;
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
