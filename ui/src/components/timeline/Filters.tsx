// Filters: a session (part of its id), a key, a model, an upstream, and which outcomes to show.

import type { Outcome, TimelineFilter } from '../../../../src/client/timeline/index.js';
import { OUTCOMES } from '../../../../src/client/timeline/index.js';
import { OUTCOME_LOOK } from './outcomes.js';

export interface FilterChoices {
  keys: string[];
  models: string[];
  upstreams: string[];
}

export function Filters({ filter, choices, onChange }: { filter: TimelineFilter; choices: FilterChoices; onChange(filter: TimelineFilter): void }) {
  const outcomes = filter.outcomes ?? new Set<Outcome>();
  const toggle = (o: Outcome) => {
    const next = new Set(outcomes);
    if (next.has(o)) next.delete(o);
    else next.add(o);
    onChange({ ...filter, outcomes: next });
  };
  return (
    <form className="tl-filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
      <label>
        Session
        <input type="search" value={filter.session ?? ''} placeholder="any" onChange={(e) => onChange({ ...filter, session: e.target.value || undefined })} />
      </label>
      <Choice label="Key" value={filter.key} options={choices.keys} onChange={(key) => onChange({ ...filter, key })} />
      <Choice label="Model" value={filter.model} options={choices.models} onChange={(model) => onChange({ ...filter, model })} />
      <Choice label="Upstream" value={filter.upstream} options={choices.upstreams} onChange={(upstream) => onChange({ ...filter, upstream })} />
      <fieldset className="tl-outcome-filter">
        <legend>Outcomes (none checked: all)</legend>
        {OUTCOMES.map((o) => (
          <label key={o} className={`tl-outcome-chip outcome-${o}`}>
            <input type="checkbox" checked={outcomes.has(o)} onChange={() => toggle(o)} />
            <span aria-hidden="true">{OUTCOME_LOOK[o].glyph}</span> {OUTCOME_LOOK[o].label}
          </label>
        ))}
      </fieldset>
    </form>
  );
}

function Choice({ label, value, options, onChange }: { label: string; value?: string; options: string[]; onChange(value: string | undefined): void }) {
  return (
    <label>
      {label}
      <select value={value ?? ''} onChange={(e) => onChange(e.target.value || undefined)}>
        <option value="">any</option>
        {options.map((o) => (
          <option key={o} value={o}>{o}</option>
        ))}
      </select>
    </label>
  );
}
