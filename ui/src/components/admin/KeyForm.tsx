// Creates a key (docs/ui.md "Admin page"): a name, the person it belongs to, a role, an
// optional expiry and limits. Empty fields are left out, so the server's defaults apply
// (owner: the name; role: user; limits: JARVIS_DEFAULT_LIMITS for user keys).

import { useId, useState, type FormEvent } from 'react';
import { limitLabel } from '../../../../src/client/admin/usageSummary.js';
import { LIMIT_NAMES, type KeyLimits, type KeyRole, type LimitName, type NewApiKeyJson } from '../../../../src/shared/admin.js';
import { endOfUtcDay } from './format.js';

const EMPTY_LIMITS: Record<LimitName, string> = { rpm: '', tpm: '', max_streams: '', tokens_per_day: '' };

export function KeyForm({ onCreate, firstKey }: {
  /** Resolves once created; rejects with a message to show. */
  onCreate(body: NewApiKeyJson): Promise<void>;
  /** Jarvis runs without authentication: this key turns it on. */
  firstKey: boolean;
}) {
  const ids = useId();
  const [name, setName] = useState('');
  const [owner, setOwner] = useState('');
  const [role, setRole] = useState<KeyRole>('user');
  const [expires, setExpires] = useState('');
  const [limits, setLimits] = useState(EMPTY_LIMITS);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return setError('Give the key a name (e.g. alice-laptop).');
    const parsed: KeyLimits = {};
    for (const n of LIMIT_NAMES) {
      const raw = limits[n].trim();
      if (raw === '') continue;
      const value = Number(raw);
      if (!Number.isInteger(value) || value < 0) return setError(`${limitLabel(n)} is a whole number, 0 or more (empty: no limit of its own).`);
      parsed[n] = value;
    }
    if (expires && endOfUtcDay(expires) <= new Date().toISOString()) return setError('The expiry is a day to come (empty: never).');
    const body: NewApiKeyJson = {
      name: name.trim(),
      role,
      ...(owner.trim() ? { owner: owner.trim() } : {}),
      ...(expires ? { expires_at: endOfUtcDay(expires) } : {}),
      ...(Object.keys(parsed).length > 0 ? { limits: parsed } : {}),
    };
    setBusy(true);
    setError(null);
    try {
      await onCreate(body);
      setName('');
      setOwner('');
      setRole('user');
      setExpires('');
      setLimits(EMPTY_LIMITS);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="key-form" onSubmit={(e) => void submit(e)} aria-labelledby={`${ids}-title`} noValidate>
      <h3 id={`${ids}-title`}>Create a key</h3>
      {firstKey ? (
        <p className="admin-warning" role="note">
          Jarvis runs without keys now: the first key turns sign-in on at once, for everyone. Create an admin key first and keep it:
          this browser will need it to come back here.
        </p>
      ) : null}
      <div className="key-form-grid">
        <label htmlFor={`${ids}-name`}>Name</label>
        <input id={`${ids}-name`} value={name} required maxLength={100} placeholder="e.g. alice-laptop" onChange={(e) => setName(e.target.value)} />
        <label htmlFor={`${ids}-owner`}>Owner</label>
        <input id={`${ids}-owner`} value={owner} maxLength={200} placeholder="the name" aria-describedby={`${ids}-owner-hint`} onChange={(e) => setOwner(e.target.value)} />
        <p id={`${ids}-owner-hint`} className="admin-hint">
          The person it is for: their conversations and usage go under this name. Keys with the same owner share them.
        </p>
        <label htmlFor={`${ids}-role`}>Role</label>
        <select id={`${ids}-role`} value={role} onChange={(e) => setRole(e.target.value as KeyRole)}>
          <option value="user">User</option>
          <option value="admin">Admin (manages keys, sees all usage)</option>
        </select>
        <label htmlFor={`${ids}-expires`}>Expires</label>
        <input id={`${ids}-expires`} type="date" value={expires} aria-describedby={`${ids}-expires-hint`} onChange={(e) => setExpires(e.target.value)} />
        <p id={`${ids}-expires-hint`} className="admin-hint">Empty: never. Otherwise it works through the end of that day (UTC).</p>
      </div>
      <fieldset className="key-limits">
        <legend>Limits</legend>
        <p className="admin-hint">Empty: no limit of its own (a user key then gets Jarvis’s default limits, if set).</p>
        {LIMIT_NAMES.map((n) => (
          <label key={n}>
            {limitLabel(n)}
            <input type="number" inputMode="numeric" min={0} step={1} value={limits[n]} onChange={(e) => setLimits((l) => ({ ...l, [n]: e.target.value }))} />
          </label>
        ))}
      </fieldset>
      {error ? <p className="settings-error" role="alert">{error}</p> : null}
      <div className="settings-actions">
        <button type="submit" className="small-button primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create key'}
        </button>
      </div>
    </form>
  );
}
