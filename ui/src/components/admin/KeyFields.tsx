// The fields a key's form and its Edit dialog share (docs/ui.md "Admin page"): its name, its
// expiry day and its four limits, as text while typed, checked the same way before a call.

import { limitLabel } from '../../../../src/client/admin/usageSummary.js';
import { LIMIT_NAMES, type KeyLimits, type LimitName } from '../../../../src/shared/team/admin.js';
import { endOfUtcDay } from './format.js';

/** The limits as typed: '' is no bound of the key's own. */
export type LimitsText = Record<LimitName, string>;

export const EMPTY_LIMITS: LimitsText = { rpm: '', tpm: '', max_streams: '', tokens_per_day: '' };

export function limitsText(limits: KeyLimits | null): LimitsText {
  const text = { ...EMPTY_LIMITS };
  for (const n of LIMIT_NAMES) if (typeof limits?.[n] === 'number') text[n] = String(limits[n]);
  return text;
}

/** The limits typed, or what is wrong with one of them (in words to show). */
export function parseLimits(text: LimitsText): KeyLimits | string {
  const parsed: KeyLimits = {};
  for (const n of LIMIT_NAMES) {
    const raw = text[n].trim();
    if (raw === '') continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) return `${limitLabel(n)} is a whole number, 0 or more (empty: no limit of its own).`;
    parsed[n] = value;
  }
  return parsed;
}

/** What is wrong with an expiry day picked, if anything ('' is never). */
export function expiryError(day: string): string | null {
  return day && endOfUtcDay(day) <= new Date().toISOString() ? 'The expiry is a day to come (empty: never).' : null;
}

/** A key's name: a label and its field, for a two-column grid. */
export function NameField({ id, value, onChange }: { id: string; value: string; onChange(value: string): void }) {
  return (
    <>
      <label htmlFor={id}>Name</label>
      <input id={id} value={value} required maxLength={100} placeholder="e.g. alice-laptop" onChange={(e) => onChange(e.target.value)} />
    </>
  );
}

/** The day a key stops working ('' never): a label, the date field and what it means, for a two-column grid. */
export function ExpiresField({ id, value, onChange }: { id: string; value: string; onChange(value: string): void }) {
  return (
    <>
      <label htmlFor={id}>Expires</label>
      <input id={id} type="date" value={value} aria-describedby={`${id}-hint`} onChange={(e) => onChange(e.target.value)} />
      <p id={`${id}-hint`} className="admin-hint">Empty: never. Otherwise it works through the end of that day (UTC).</p>
    </>
  );
}

export function LimitsFields({ values, onChange }: { values: LimitsText; onChange(update: (values: LimitsText) => LimitsText): void }) {
  return (
    <fieldset className="key-limits">
      <legend>Limits</legend>
      <p className="admin-hint">Empty: no limit of its own (a user key then gets Jarvis’s default limits, if set).</p>
      {LIMIT_NAMES.map((n) => (
        <label key={n}>
          {limitLabel(n)}
          <input type="number" inputMode="numeric" min={0} step={1} value={values[n]} onChange={(e) => onChange((l) => ({ ...l, [n]: e.target.value }))} />
        </label>
      ))}
    </fieldset>
  );
}
