// A report page's model: ReportData (src/shared/lifecycle.ts) replayed into a Timeline, with the text
// report's findings (each tied to its streams and lines) added beside the model's own.

import type { ReportData, ReportFinding } from '../../shared/lifecycle.js';
import { Timeline } from './timeline.js';
import type { Finding } from './types.js';

export function findingsFromReport(findings: readonly ReportFinding[]): Finding[] {
  return findings.map((f, i) => ({
    id: `report:${i}:${f.section}:${f.check}`,
    kind: 'report',
    severity: f.status,
    title: f.title,
    detail: f.detail,
    at: f.at ?? 0,
    streams: f.streams,
    sessions: f.sessions,
  }));
}

/** The whole log kept (no pruning), records replayed in time order, then the time checks run once at its end. */
export function timelineOfReport(data: ReportData): Timeline {
  const timeline = new Timeline({ keepMs: Number.MAX_SAFE_INTEGER / 4, maxStreams: Number.MAX_SAFE_INTEGER });
  const records = [...data.records].sort((a, b) => a.t - b.t);
  for (const record of records) timeline.add(record);
  timeline.tick(timeline.newest);
  for (const finding of findingsFromReport(data.findings)) timeline.addFinding(finding);
  return timeline;
}
