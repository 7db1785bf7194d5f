import type { LifecycleRecord, ReportData, ReportFinding } from '../../shared/lifecycle.js';
import { LIFECYCLE_EVENT_SET } from '../../log/lifecycleEvents.js';
import { renderText } from '../report/render.js';
import type { Report } from '../report/report.js';
import { findingsOf } from './findings.js';
import { recordOf, type RecordCollector, type RecordsCapped } from './records.js';

// ReportData (src/shared/lifecycle.ts), what the report page draws: the records the walk kept,
// the text report's findings, and the text itself.

/** The finding that says the records were cut, so the page says so where findings are shown. */
export const CAPPED_CHECK = 'Records kept in this report';

export function reportDataOf(report: Report, collector: RecordCollector, now = Date.now()): ReportData {
  const { records, capped } = collector.finish();
  const findings = findingsOf(report);
  const several = collector.sources.length > 1;
  const all = withFindingLines(records, findings, several);
  let text = renderText(report);
  if (capped) {
    const note = cappedNote(capped);
    findings.unshift({ section: 'report', check: CAPPED_CHECK, status: 'warning', title: CAPPED_CHECK, detail: note, at: capped.fromMs, streams: [], sessions: [], lines: [] });
    text = `Note: ${note}\n\n${text}`;
  }
  return { version: 1, generatedAt: now, sources: collector.sources, records: all, findings, text };
}

export function cappedNote(c: RecordsCapped): string {
  return (
    `the timeline shows the last ${c.keptStreams} streams, from ${new Date(c.fromMs).toISOString()}: ` +
    `${c.droppedRecords} lifecycle lines of ${c.droppedStreams} earlier streams were left out (the checks read every line; ` +
    'the lines of every finding are kept). Use --since TIME or --session ID for an earlier part, or --max-streams N for more.'
  );
}

/**
 * The lines a finding quotes are on the timeline even when they are older than the kept
 * window (an orphan that started long ago): its records are put back from the quoted text.
 */
function withFindingLines(records: LifecycleRecord[], findings: ReportFinding[], several: boolean): LifecycleRecord[] {
  const kept = new Set<string>();
  for (const r of records) if (r.line) kept.add(`${r.line.source}:${r.line.n}`);
  const extra: LifecycleRecord[] = [];
  for (const f of findings) {
    for (const l of f.lines) {
      const key = `${l.source}:${l.n}`;
      if (kept.has(key)) continue;
      kept.add(key);
      const record = recordOf(l.text, { source: l.source, n: l.n }, several);
      if (record && LIFECYCLE_EVENT_SET.has(record.event)) extra.push(record);
    }
  }
  if (extra.length === 0) return records;
  return [...extra, ...records].sort((a, b) => a.t - b.t);
}
