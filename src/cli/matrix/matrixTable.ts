import type { RowResult } from './matrixRun.js';

const COLUMNS: Array<{ title: string; value: (r: RowResult) => string }> = [
  { title: 'Test', value: (r) => r.test },
  { title: 'Expected', value: (r) => r.expected },
  { title: 'Result', value: (r) => `${r.pass ? '✓' : '❌'} ${r.result}` },
  { title: 'TTFT', value: (r) => r.timings.ttft ?? '-' },
  { title: 'Supersede wait', value: (r) => r.timings.supersedeWait ?? '-' },
  { title: 'Stop → cancelled', value: (r) => r.timings.stopToCancelled ?? '-' },
  { title: 'Released', value: (r) => r.timings.released ?? '-' },
  { title: 'Engine stop', value: (r) => r.timings.engineStop ?? '-' },
];

const MAX_CELL = 70;

/** A plain-text table (fits a terminal and a bug report), then every failure in full. */
export function renderMatrix(rows: RowResult[], url: string): string {
  const cells = rows.map((r) => COLUMNS.map((c) => clip(c.value(r))));
  const widths = COLUMNS.map((c, i) => Math.max(c.title.length, ...cells.map((row) => (row[i] as string).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i] as number)).join(' | ').trimEnd();
  const out = [`Jarvis test case matrix against ${url}`, '', line(COLUMNS.map((c) => c.title)), widths.map((w) => '-'.repeat(w)).join('-|-'), ...cells.map(line)];
  const failed = rows.filter((r) => !r.pass);
  for (const r of failed) {
    out.push('', `❌ ${r.test} (sessions ${r.sessions.join(', ')}):`);
    for (const p of r.problems) out.push(`   · ${p}`);
  }
  out.push('', failed.length === 0 ? `All ${rows.length} tests passed.` : `${failed.length} of ${rows.length} tests failed. \`jarvis diagnose --session <session>\` tells each story from the log.`);
  const unconfirmed = rows.reduce((n, r) => n + (r.unconfirmedCancels ?? 0), 0);
  if (unconfirmed > 0) out.push(`${unconfirmed} cancel(s) not confirmed by the engine: it may have kept generating after the stream ended (\`jarvis diagnose --url\` says what the engine guarantees).`);
  return out.join('\n') + '\n';
}

function clip(text: string): string {
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
}
