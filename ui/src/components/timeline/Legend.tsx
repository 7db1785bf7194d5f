// What the colours, glyphs and marks mean (docs/observability.md "The live timeline", Colours).

import { OUTCOMES } from '../../../../src/client/timeline/index.js';
import { MARK_LOOK, OUTCOME_LOOK } from './outcomes.js';

export function Legend() {
  return (
    <details className="tl-legend">
      <summary>Legend</summary>
      <ul aria-label="Outcomes">
        {OUTCOMES.map((o) => (
          <li key={o}>
            <span className={`tl-swatch tl-bar outcome-${o}`} aria-hidden="true"><span className="tl-glyph">{OUTCOME_LOOK[o].glyph}</span></span>
            <strong>{OUTCOME_LOOK[o].label}</strong>: {OUTCOME_LOOK[o].meaning}
          </li>
        ))}
        <li>
          <span className="tl-swatch tl-bar outcome-live flagged" aria-hidden="true"><span className="tl-glyph">⚠</span></span>
          <strong>flagged</strong>: a finding is about it
        </li>
      </ul>
      <ul aria-label="Marks">
        {Object.entries(MARK_LOOK).map(([kind, look]) => (
          <li key={kind}>
            <span className={`tl-mark-glyph mark-${kind}`} aria-hidden="true">{kind === 'supersede_wait' ? '▬' : look.glyph}</span> {look.label}
          </li>
        ))}
      </ul>
    </details>
  );
}
