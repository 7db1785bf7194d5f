import { parseLine } from '../../log/format.js';
import type { LineRef, ReportFinding } from '../../shared/lifecycle.js';
import type { Evidence } from '../logAnalysis/samples.js';
import type { Check, Report, Section } from '../report/report.js';

// The text report's findings for the report page (docs/observability.md "A report to attach"):
// each piece of evidence of a failed check becomes a finding tied to the streams, sessions and
// lines it quotes, so the page can mark it on their bars and link it to its lines.

/** A quoted line longer than this is cut in the page (a stack trace is in the log). */
const LINE_TEXT_MAX = 2000;

export function findingsOf(report: Report): ReportFinding[] {
  const out: ReportFinding[] = [];
  for (const section of report.sections) {
    for (const check of section.checks) {
      const status = statusOf(check);
      if (!status) continue;
      const items = status === 'warning' ? check.evidence.filter(isAboutLines) : check.evidence;
      if (items.length === 0) out.push(finding(section, check, status, { text: check.summary }));
      for (const e of items) out.push(finding(section, check, status, e));
      // The text report shows a few cases of each check: the page says how many it leaves out.
      const more = (check.count ?? 0) - check.evidence.length;
      const last = out.at(-1);
      if (more > 0 && items.length > 0 && last) last.detail = `${last.detail ?? ''} (and ${more} more like it: see the text report)`;
    }
  }
  return out;
}

/**
 * A failed check is a problem; a passed one that still quotes lines (slow first tokens
 * that were the model's time, not Jarvis's) is a warning: worth a look on the timeline.
 */
function statusOf(check: Check): ReportFinding['status'] | undefined {
  if (check.status === 'problem') return 'problem';
  if (check.status === 'ok' && check.evidence.some(isAboutLines)) return 'warning';
  return undefined;
}

function isAboutLines(e: Evidence): boolean {
  return (e.lines?.length ?? 0) > 0 || e.trace !== undefined;
}

function finding(section: Section, check: Check, status: ReportFinding['status'], e: Evidence): ReportFinding {
  const streams = new Set<string>();
  const sessions = new Set<string>();
  if (e.trace !== undefined) streams.add(e.trace);
  for (const s of e.streams ?? []) streams.add(s);
  if (e.session !== undefined) sessions.add(e.session);
  const lines: ReportFinding['lines'] = [];
  let at: number | undefined;
  (e.lines ?? []).forEach((raw, i) => {
    const parsed = parseLine(raw);
    if (parsed) {
      const f = parsed.fields;
      for (const id of [f.trace, f.new_trace, f.stream_id, f.stream]) if (id !== undefined && id !== '-' && id !== '') streams.add(id);
      if (f.session !== undefined) sessions.add(f.session);
      const t = Date.parse(parsed.time);
      if (Number.isFinite(t)) at = t;
    }
    const ref: LineRef | undefined = e.refs?.[i];
    if (ref) lines.push({ source: ref.source, n: ref.n, text: raw.length > LINE_TEXT_MAX ? `${raw.slice(0, LINE_TEXT_MAX)}…` : raw });
  });
  return {
    section: section.id,
    check: check.title,
    status,
    title: check.title,
    detail: e.text,
    ...(at !== undefined ? { at } : {}),
    streams: [...streams],
    sessions: [...sessions],
    lines,
  };
}
