import { parseLine } from '../../log/format.js';
import type { Check, Report } from './report.js';

const MARK: Record<Check['status'], string> = { ok: '✓', problem: '❌', skipped: '–' };

/** The human report: sections in their order (docs/operations.md), each check with its evidence and fix. */
export function renderText(report: Report): string {
  const out: string[] = [];
  const window = [report.since ? `since ${report.since}` : '', report.session ? `session ${report.session}` : ''].filter(Boolean).join(', ');
  const where = report.log.files && report.log.files.length > 1 ? `${report.log.files.length} logs merged by time (${report.log.files.join(', ')})` : report.log.path;
  out.push(`Jarvis diagnose: ${where} (${report.log.lines} lines${report.log.first_time ? `, ${report.log.first_time} → ${report.log.last_time}` : ''})${report.url ? `, server ${report.url}` : ''}${window ? `, ${window}` : ''}`);
  report.sections.forEach((section, i) => {
    out.push('', `${i + 1}. ${section.title}`);
    for (const c of section.checks) {
      out.push(`  ${MARK[c.status]} ${c.title}: ${c.summary}`);
      if (c.status === 'skipped') continue;
      for (const e of c.evidence) {
        out.push(`      · ${e.text}`);
        for (const line of e.lines ?? []) out.push(`        ${line.length > 400 ? `${line.slice(0, 400)}…` : line}`);
      }
      if (c.count !== undefined && c.count > c.evidence.length) out.push(`      … ${c.count - c.evidence.length} more`);
      if (c.fix) out.push(`      fix: ${c.fix}`);
    }
  });
  if (report.timeline) out.push('', ...renderTimeline(report.timeline, report.session ?? ''));
  if (report.hint) out.push('', `Hint: ${report.hint}`);
  out.push('', report.problems === 0 ? 'Result: healthy, no problems found.' : `Result: ${report.problems} problem${report.problems === 1 ? '' : 's'} found (exit 1).`);
  return out.join('\n') + '\n';
}

/** One session's story: each line with its offset from the session's first line. */
export function renderTimeline(lines: string[], session: string): string[] {
  if (lines.length === 0) return [`Timeline of session ${session}: no lines`];
  const out = [`Timeline of session ${session} (${lines.length} lines):`];
  const t0 = Date.parse(parseLine(lines[0] as string)?.time ?? '');
  for (const raw of lines) {
    const line = parseLine(raw);
    if (!line) continue;
    const offset = Date.parse(line.time) - t0;
    const fields = Object.entries(line.fields).map(([k, v]) => `${k}=${/[\s"=]/.test(v) ? JSON.stringify(v) : v}`).join(' ');
    out.push(`  +${String(offset).padStart(6)} ms  ${line.level.padEnd(5)} ${line.event} ${fields}`);
  }
  return out;
}
