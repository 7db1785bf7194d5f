// The detail panel of the selected stream: its figures, its marks with their times, its verdict
// and every line of it, as the log wrote them.

import { formatMs, recordText, type Finding, type StreamBar } from '../../../../src/client/timeline/index.js';
import { MARK_LOOK, OUTCOME_LOOK, clock } from './outcomes.js';

export function StreamDetail({ bar, findings, onClose, onSelect, earlier, later }: {
  bar: StreamBar;
  findings: Finding[];
  onClose(): void;
  onSelect(id: string): void;
  /** The lane's stream before and after it (keyboard reaches every stream from its lane's button). */
  earlier?: string;
  later?: string;
}) {
  const look = OUTCOME_LOOK[bar.outcome];
  const facts: Array<[string, string | undefined]> = [
    ['Outcome', `${look.glyph} ${look.label}${bar.errorCode ? ` (${bar.errorCode})` : ''}${bar.finish ? `, finish ${bar.finish}` : ''}`],
    ['Session', bar.session],
    ['Instance', bar.instance || undefined],
    ['Key', bar.key],
    ['Model', bar.model],
    ['Backend', bar.backend],
    ['Upstream', bar.upstream],
    ['Started', clock(bar.start, true)],
    ['Ended', bar.end !== undefined ? `${clock(bar.end, true)} (after ${formatMs(bar.end - bar.start)})` : 'not yet'],
    ['First token', bar.firstToken !== undefined ? `after ${formatMs(bar.firstToken - bar.start)}` : undefined],
    ['Tokens', bar.tokens !== undefined ? String(bar.tokens) : undefined],
    ['Cancel', bar.cancelAt !== undefined ? `${bar.cancelReason ?? 'requested'} at ${clock(bar.cancelAt, true)}` : undefined],
    ['Verdict', bar.verdict ? `${bar.verdict.cancel}${bar.verdict.ms !== undefined ? ` in ${bar.verdict.ms} ms` : ''}${bar.verdict.how ? ` (${bar.verdict.how})` : ''}${bar.verdict.slot ? `, slot ${bar.verdict.slot}` : ''}` : undefined],
    ['Superseded by', bar.supersededBy],
    ['Waited for', bar.supersedes.length > 0 ? bar.supersedes.join(', ') : undefined],
    ...Object.entries(bar.timings).map(([name, ms]): [string, string] => [name, `${ms} ms`]),
  ];
  return (
    <section className="tl-detail" aria-labelledby="tl-detail-title">
      <header className="tl-detail-header">
        <h2 id="tl-detail-title">Stream {bar.id}</h2>
        <span className="tl-detail-nav">
          <button type="button" className="small-button" disabled={!earlier} onClick={() => earlier && onSelect(earlier)}>← Earlier</button>
          <button type="button" className="small-button" disabled={!later} onClick={() => later && onSelect(later)}>Later →</button>
          <button type="button" className="small-button" onClick={onClose}>Close</button>
        </span>
      </header>
      {findings.length > 0 && (
        <ul className="tl-detail-findings">
          {findings.map((f) => (
            <li key={f.id} className={`tl-finding-${f.severity}`}>⚠ {f.title}{f.detail ? `: ${f.detail}` : ''}</li>
          ))}
        </ul>
      )}
      <dl className="tl-facts">
        {facts.filter((f): f is [string, string] => f[1] !== undefined && f[1] !== '').map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      {bar.marks.length > 0 && (
        <>
          <h3>Marks</h3>
          <ul className="tl-detail-marks">
            {[...bar.marks].sort((a, b) => a.t - b.t).map((m) => (
              <li key={m.kind}>
                <span aria-hidden="true" className={`tl-mark-glyph mark-${m.kind}`}>{MARK_LOOK[m.kind].glyph}</span> +{formatMs(m.t - bar.start)} {MARK_LOOK[m.kind].label}: {m.label}
              </li>
            ))}
          </ul>
        </>
      )}
      <h3>Lines ({bar.records.length})</h3>
      <ol className="tl-lines">
        {bar.records.map((r, i) => (
          <li key={i} className={`level-${r.level}`}>
            <span className="tl-line-time">{clock(r.t, true)}</span>
            {r.instance && <span className="tl-line-instance">{r.instance}</span>}
            {r.line && <span className="tl-line-ref">{r.line.source}:{r.line.n}</span>}
            <code>{recordText(r)}</code>
          </li>
        ))}
      </ol>
    </section>
  );
}
