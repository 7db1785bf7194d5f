// The report page (docs/observability.md "A report to attach"): the same timeline as /ops, drawn from
// the report's records over their whole time range (zoomable, scrollable), with the text report's
// findings marked on their streams and listed with their lines, and the text report itself.

import { useMemo, useState } from 'react';
import type { ReportData, ReportFinding } from '../../../src/shared/lifecycle.js';
import { findingsFromReport, rangeOf, timelineOfReport } from '../../../src/client/timeline/index.js';
import { TimelineExplorer } from '../components/timeline/TimelineExplorer.js';
import { clock } from '../components/timeline/outcomes.js';
import '../components/ops/ops.css';
import './report.css';

const ZOOMS = [1, 2, 4, 8, 16, 32, 64];

export function ReportApp({ data }: { data: ReportData | string }) {
  if (typeof data === 'string') {
    return (
      <main className="ops-page report-empty">
        <div className="unavailable-card" role="alert">
          <h1>Jarvis stream report</h1>
          <p>{data}</p>
        </div>
      </main>
    );
  }
  return <Report data={data} />;
}

function Report({ data }: { data: ReportData }) {
  const timeline = useMemo(() => timelineOfReport(data), [data]);
  const range = useMemo(() => rangeOf(timeline), [timeline]);
  const byId = useMemo(() => {
    const ids = findingsFromReport(data.findings).map((f) => f.id);
    return new Map<string, ReportFinding>(data.findings.map((f, i) => [ids[i]!, f]));
  }, [data]);
  const [zoom, setZoom] = useState(1);
  const [dark, setDark] = useState(() => document.documentElement.getAttribute('data-theme') === 'dark');
  const toggleTheme = () => {
    document.documentElement.setAttribute('data-theme', dark ? 'light' : 'dark');
    setDark(!dark);
  };
  const pad = Math.max(200, (range.to - range.from) * 0.02);
  const controls = (
    <div className="tl-controls">
      <label>
        Zoom
        <select value={zoom} onChange={(e) => setZoom(Number(e.target.value))}>
          {ZOOMS.map((z) => (
            <option key={z} value={z}>{z === 1 ? 'whole range' : `×${z}`}</option>
          ))}
        </select>
      </label>
      <button type="button" className="small-button" aria-pressed={dark} onClick={toggleTheme}>
        {dark ? '☀ Light' : '☾ Dark'}
      </button>
    </div>
  );
  return (
    <div className="ops-page">
      <header className="ops-header">
        <h1>Jarvis stream report</h1>
        <span className="report-meta">
          made {new Date(data.generatedAt).toISOString().replace('T', ' ').slice(0, 19)} UTC from{' '}
          {data.sources.map((s) => `${s.label} (${s.lines} lines)`).join(', ') || 'no files'}; {clock(range.from)}–{clock(range.to)} local time
        </span>
      </header>
      <main className="ops-main">
        <TimelineExplorer
          timeline={timeline}
          version={timeline.version}
          from={range.from - pad}
          to={range.to + pad}
          now={timeline.newest}
          zoom={zoom}
          reportFindings={byId}
          controls={controls}
        />
        <details className="report-text">
          <summary>The text report (jarvis diagnose)</summary>
          <pre tabIndex={0}>{data.text}</pre>
        </details>
      </main>
    </div>
  );
}
