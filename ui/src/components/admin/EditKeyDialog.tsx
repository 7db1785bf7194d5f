// Changes a stored key (docs/ui.md "Admin page"): its name, expiry day and limits, through
// PATCH /v1/admin/keys/{id}. Only what changed is sent; its owner and role stay (a new key
// changes those). The server's words are shown when it refuses a field.

import { useId, useLayoutEffect, useRef, useState, type FormEvent } from 'react';
import { LIMIT_NAMES, type ApiKeyJson, type ApiKeyPatchJson, type KeyLimits } from '../../../../src/shared/team/admin.js';
import { endOfUtcDay } from './format.js';
import { ExpiresField, expiryError, LimitsFields, limitsText, NameField, parseLimits } from './KeyFields.js';

export function EditKeyDialog({ apiKey, onSave, onClose }: {
  /** The key to change; null: closed. */
  apiKey: ApiKeyJson | null;
  /** Resolves once saved; rejects with a message to show. */
  onSave(key: ApiKeyJson, patch: ApiKeyPatchJson): Promise<void>;
  onClose(): void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const ids = useId();
  useLayoutEffect(() => {
    const el = dialog.current;
    if (apiKey && el && !el.open) {
      el.showModal();
      el.querySelector('input')?.focus(); // the name: where an edit starts
    } else if (!apiKey && el?.open) el.close();
  }, [apiKey]);

  // Escape closes it (the browser's cancel, then close) as Cancel does.
  return (
    <dialog ref={dialog} className="settings-dialog" aria-labelledby={`${ids}-title`} onClose={onClose} data-testid="edit-key-dialog">
      {apiKey ? <EditKeyForm key={apiKey.id} apiKey={apiKey} titleId={`${ids}-title`} onSave={onSave} onClose={onClose} /> : null}
    </dialog>
  );
}

function EditKeyForm({ apiKey, titleId, onSave, onClose }: { apiKey: ApiKeyJson; titleId: string; onSave: EditProps['onSave']; onClose(): void }) {
  const ids = useId();
  const firstDay = apiKey.expires_at ? apiKey.expires_at.slice(0, 10) : '';
  const [name, setName] = useState(apiKey.name);
  const [expires, setExpires] = useState(firstDay);
  const [limits, setLimits] = useState(() => limitsText(apiKey.limits));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return setError('Give the key a name (e.g. alice-laptop).');
    const parsed = parseLimits(limits);
    if (typeof parsed === 'string') return setError(parsed);
    const patch: ApiKeyPatchJson = {};
    if (name.trim() !== apiKey.name) patch.name = name.trim();
    if (expires !== firstDay) {
      const late = expiryError(expires);
      if (late) return setError(late);
      patch.expires_at = expires ? endOfUtcDay(expires) : null;
    }
    if (!sameLimits(parsed, apiKey.limits)) patch.limits = Object.keys(parsed).length > 0 ? parsed : null;
    if (Object.keys(patch).length === 0) return onClose();
    setBusy(true);
    setError(null);
    try {
      await onSave(apiKey, patch);
      onClose();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <form className="settings-form key-edit" onSubmit={(e) => void submit(e)} aria-describedby={`${ids}-what`} noValidate>
      <h2 id={titleId}>Edit the key “{apiKey.name}”</h2>
      <p id={`${ids}-what`} className="admin-note">
        {apiKey.prefix}… of {apiKey.owner}. The change holds at once, on every instance; its owner and role stay (make a new key for others).
      </p>
      <div className="key-form-grid">
        <NameField id={`${ids}-name`} value={name} onChange={setName} />
        <ExpiresField id={`${ids}-expires`} value={expires} onChange={setExpires} />
      </div>
      <LimitsFields values={limits} onChange={setLimits} />
      {error ? <p className="settings-error" role="alert">{error}</p> : null}
      <div className="settings-actions">
        <button type="button" className="small-button ghost" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="small-button primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}

type EditProps = Parameters<typeof EditKeyDialog>[0];

function sameLimits(a: KeyLimits, b: KeyLimits | null): boolean {
  return LIMIT_NAMES.every((n) => a[n] === b?.[n]);
}
