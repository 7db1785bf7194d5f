import type { ReportData, ReportFinding } from '../../shared/lifecycle.js';
import { LIFECYCLE_EVENT_SET } from '../../log/lifecycleEvents.js';
import { eventOf } from '../logAnalysis/streamEvents.js';
import { renderText } from '../report/render.js';
import type { Report } from '../report/report.js';
import { findingsOf } from './findings.js';
import { recordOf, type KeptLine, type RecordCollector, type RecordsCapped } from './records.js';
import { embedJson } from './reportPage.js';

// ReportData (src/shared/lifecycle.ts), what the report page draws: the records the walk kept,
// the text report's findings, and the text itself. Written as JSON a record at a time: the
// parsed records of a long window would hold several times the memory of their text.

/** The finding that says the records were cut, so the page says so where findings are shown. */
export const CAPPED_CHECK = 'Records kept in this report';

export interface ReportJson {
  /** ReportData as JSON, escaped for a `<script>` element (embedJson). */
  json: string;
  records: number;
  findings: number;
}

export function reportJsonOf(report: Report, collector: RecordCollector, now = Date.now()): ReportJson {
  const { lines, capped, several } = collector.finish();
  const findings = findingsOf(report);
  let text = renderText(report);
  if (capped) {
    const note = cappedNote(capped);
    findings.unshift({ section: 'report', check: CAPPED_CHECK, status: 'warning', title: CAPPED_CHECK, detail: note, at: capped.fromMs, streams: [], sessions: [], lines: [] });
    text = `Note: ${note}\n\n${text}`;
  }
  const records: string[] = [];
  for (const line of withFindingLines(lines, findings)) {
    const record = recordOf(line.raw, line.at, several);
    if (record) records.push(embedJson(record));
  }
  const head: Omit<ReportData, 'records' | 'findings' | 'text'> = { version: 1, generatedAt: now, sources: collector.sources };
  const rest = { findings, text };
  // `{…head,"records":[…],…rest}`: the keys in ReportData's order.
  const json = `${embedJson(head).slice(0, -1)},"records":[${records.join(',')}],${embedJson(rest).slice(1)}`;
  return { json, records: records.length, findings: findings.length };
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
 * window (an orphan that started long ago): they are put back from the quoted text.
 */
function withFindingLines(lines: KeptLine[], findings: ReportFinding[]): KeptLine[] {
  const kept = new Map<string, Set<number>>();
  const has = (source: string, n: number) => kept.get(source)?.has(n) ?? false;
  for (const l of lines) {
    let ns = kept.get(l.at.source);
    if (!ns) kept.set(l.at.source, (ns = new Set()));
    ns.add(l.at.n);
  }
  const extra: KeptLine[] = [];
  for (const f of findings) {
    for (const l of f.lines) {
      if (has(l.source, l.n) || extra.some((e) => e.at.source === l.source && e.at.n === l.n)) continue;
      if (!LIFECYCLE_EVENT_SET.has(eventOf(l.text) ?? '')) continue;
      const t = Date.parse(l.text.slice(0, l.text.indexOf(' ')));
      if (Number.isFinite(t)) extra.push({ raw: l.text, at: { source: l.source, n: l.n }, t });
    }
  }
  if (extra.length === 0) return lines;
  return [...extra, ...lines].sort((a, b) => a.t - b.t);
}
