// Filters, legend, the timeline, the findings and the selected stream's detail: the body of both the
// `/ops` page and the report page (docs/observability.md "The live timeline").

import { useMemo, useState, type ReactNode } from 'react';
import type { ReportFinding } from '../../../../src/shared/lifecycle.js';
import { filterChoices, lanesOf, type Finding, type Timeline, type TimelineFilter } from '../../../../src/client/timeline/index.js';
import { Filters } from './Filters.js';
import { FindingsList } from './FindingsList.js';
import { Legend } from './Legend.js';
import { StreamDetail } from './StreamDetail.js';
import { TimelineView } from './TimelineView.js';
import './timeline.css';

export interface TimelineExplorerProps {
  timeline: Timeline;
  /** The model's version: what the views are recomputed on. */
  version: number;
  from: number;
  to: number;
  now: number;
  zoom?: number;
  fresh?: ReadonlySet<string>;
  reportFindings?: ReadonlyMap<string, ReportFinding>;
  /** Above the timeline: the page's own controls (pause, window, zoom). */
  controls?: ReactNode;
}

export function TimelineExplorer({ timeline, version, from, to, now, zoom, fresh, reportFindings, controls }: TimelineExplorerProps) {
  const [filter, setFilter] = useState<TimelineFilter>({});
  const [selected, setSelected] = useState<string | undefined>();
  // Recomputed when records arrive (version), not per record: the page bumps the version once a frame.
  const lanes = useMemo(() => lanesOf(timeline, filter), [timeline, version, filter]);
  const choices = useMemo(() => filterChoices(timeline), [timeline, version]);
  const findings = useMemo(() => timeline.findings(), [timeline, version]);
  const flagged = useMemo(() => new Set(findings.flatMap((f) => f.streams)), [findings]);
  const bar = selected ? timeline.get(selected) : undefined;
  const lane = bar ? lanes.find((l) => l.streams.includes(bar)) : undefined;
  const at = lane && bar ? lane.streams.indexOf(bar) : -1;
  const select = (finding: Finding) => {
    const id = finding.streams.find((s) => timeline.get(s)) ?? finding.streams[0];
    if (id) setSelected(id);
  };
  return (
    <div className="tl-explorer">
      <div className="tl-toolbar">
        <Filters filter={filter} choices={choices} onChange={setFilter} />
        {controls}
      </div>
      <Legend />
      <div className="tl-main">
        <TimelineView lanes={lanes} from={from} to={to} now={now} zoom={zoom} selected={selected} flagged={flagged} onSelect={setSelected} />
        <aside className="tl-side" aria-label="Findings and stream detail">
          {bar && <StreamDetail bar={bar} findings={findings.filter((f) => f.streams.includes(bar.id))} onClose={() => setSelected(undefined)} onSelect={setSelected} earlier={lane?.streams[at - 1]?.id} later={lane?.streams[at + 1]?.id} />}
          <FindingsList findings={findings} fresh={fresh} selected={selected} onSelect={select} reportFindings={reportFindings} />
        </aside>
      </div>
      <p className="tl-count" role="status">
        {lanes.length} lanes, {lanes.reduce((n, l) => n + l.streams.length, 0)} of {timeline.size} streams shown
      </p>
    </div>
  );
}
