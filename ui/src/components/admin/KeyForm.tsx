// Creates a key (docs/ui.md "Admin page"): a name, the person it belongs to, a role, an
// optional expiry and limits. Empty fields are left out, so the server's defaults apply
// (owner: the name; role: user; limits: JARVIS_DEFAULT_LIMITS for user keys).

import { useId, useState, type FormEvent } from 'react';
import type { KeyRole, NewApiKeyJson } from '../../../../src/shared/team/admin.js';
import { endOfUtcDay } from './format.js';
import { EMPTY_LIMITS, ExpiresField, expiryError, LimitsFields, NameField, parseLimits } from './KeyFields.js';

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
    const parsed = parseLimits(limits);
    if (typeof parsed === 'string') return setError(parsed);
    const late = expiryError(expires);
    if (late) return setError(late);
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
        <NameField id={`${ids}-name`} value={name} onChange={setName} />
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
        <ExpiresField id={`${ids}-expires`} value={expires} onChange={setExpires} />
      </div>
      <LimitsFields values={limits} onChange={setLimits} />
      {error ? <p className="settings-error" role="alert">{error}</p> : null}
      <div className="settings-actions">
        <button type="submit" className="small-button primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create key'}
        </button>
      </div>
    </form>
  );
}
