import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { probeHealth } from '../../diagnostics/live/liveServer.js';
import { parseMs, parseUrl, UsageError } from '../args.js';
import { describeCancels, readCancelTotals } from './cancelMetrics.js';
import { MATRIX } from './matrixCases.js';
import { MatrixRun, type RowResult } from './matrixRun.js';
import { renderMatrix } from './matrixTable.js';

export const MATRIX_USAGE = `Usage: jarvis matrix --url URL [--model NAME] [--json]

Runs the streaming test case matrix (Baseline, Stop, Rapid, Stress, Multi)
against a running Jarvis over HTTP and prints expected vs result with timings,
and how many of each row's cancels the engine confirmed it stopped.

  --url URL          the server (e.g. http://127.0.0.1:8000)
  --model NAME       model to ask (default: the server's)
  --timeout-ms MS    longest one request may take (default 120000: a model may load first)
  --release-ms MS    how soon an ended stream must have released its upstream (default 5000)
  --json             print the rows as JSON

Exit code: 0 all passed, 1 a test failed, 2 could not run.`;

export async function matrixCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      model: { type: 'string' },
      'timeout-ms': { type: 'string' },
      'release-ms': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    out(MATRIX_USAGE + '\n');
    return 0;
  }
  const url = parseUrl(values.url);
  if (!url) throw new UsageError('--url is required');
  const health = await probeHealth(url, 5000);
  if (!health.ok) {
    out(`jarvis matrix: ${url}/health: ${health.error ?? 'not ok'}; is the server running? (try: jarvis diagnose --url ${url})\n`);
    return 2;
  }
  const run = new MatrixRun({
    url,
    model: values.model,
    requestTimeoutMs: parseMs(values['timeout-ms'], '--timeout-ms') ?? 120_000,
    releaseMs: parseMs(values['release-ms'], '--release-ms') ?? 5000,
    runId: randomUUID().slice(0, 8),
  });
  const rows: RowResult[] = [];
  // One at a time: each row's timings must not include another row's load.
  for (const test of MATRIX) {
    const before = await readCancelTotals(url);
    const row = await test.run(run);
    // Each row ends once its streams have left the server, and a stream's verdict is counted as it leaves.
    const cancels = describeCancels(before, await readCancelTotals(url));
    row.timings.engineStop = cancels.text;
    row.unconfirmedCancels = cancels.unconfirmed;
    rows.push(row);
  }
  out(values.json ? JSON.stringify({ url, pass: rows.every((r) => r.pass), rows }, null, 2) + '\n' : renderMatrix(rows, url));
  return rows.every((r) => r.pass) ? 0 : 1;
}
