// The findings, newest first: each a button selecting its (first) stream; a report's findings also
// show the lines that prove them, with where they are (`source:n`).

import type { ReportFinding } from '../../../../src/shared/lifecycle.js';
import type { Finding } from '../../../../src/client/timeline/index.js';
import { clock } from './outcomes.js';

const KIND_LABEL: Record<Finding['kind'], string> = {
  overlap: 'Overlap',
  no_end: 'No end',
  unconfirmed_cancel: 'Unconfirmed cancel',
  slow_cancel: 'Slow cancel',
  lost: 'Lost',
  report: 'Report',
};

export function FindingsList({ findings, fresh, selected, onSelect, reportFindings }: {
  findings: Finding[];
  /** Ids found in the last seconds: highlighted. */
  fresh?: ReadonlySet<string>;
  selected?: string;
  onSelect(finding: Finding): void;
  /** A report's findings, by the id `findingsFromReport` gives them, for their lines. */
  reportFindings?: ReadonlyMap<string, ReportFinding>;
}) {
  const sorted = [...findings].sort((a, b) => b.at - a.at);
  return (
    <section className="tl-findings" aria-labelledby="tl-findings-title">
      <h2 id="tl-findings-title">Findings ({findings.length})</h2>
      {sorted.length === 0 && <p className="tl-quiet">Nothing found: no overlap, no stream without end, no slow or unconfirmed cancel.</p>}
      <ul aria-live="polite">
        {sorted.slice(0, 200).map((f) => {
          const lines = reportFindings?.get(f.id)?.lines ?? [];
          const current = selected !== undefined && f.streams.includes(selected);
          return (
            <li key={f.id} className={`tl-finding tl-finding-${f.severity}${fresh?.has(f.id) ? ' fresh' : ''}${current ? ' current' : ''}`} data-kind={f.kind}>
              <button type="button" onClick={() => onSelect(f)} disabled={f.streams.length === 0} aria-pressed={current}>
                <span className="tl-finding-kind">⚠ {KIND_LABEL[f.kind]}</span>
                {f.at > 0 && <span className="tl-finding-at">{clock(f.at)}</span>}
                <span className="tl-finding-title">{f.title}</span>
              </button>
              {f.detail && <p>{f.detail}</p>}
              {lines.length > 0 && (
                <ul className="tl-finding-lines">
                  {lines.map((line) => (
                    <li key={`${line.source}:${line.n}`}>
                      <span className="tl-line-ref">{line.source}:{line.n}</span> <code>{line.text}</code>
                    </li>
                  ))}
                </ul>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
