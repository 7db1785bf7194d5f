// Asks before a key is revoked: it cannot be undone, and answers streaming with it end.

import { useId, useLayoutEffect, useRef, useState } from 'react';
import type { ApiKeyJson } from '../../../../src/shared/team/admin.js';

export function RevokeDialog({ apiKey, onRevoke, onClose }: {
  /** The key to ask about; null: closed. */
  apiKey: ApiKeyJson | null;
  /** Resolves once revoked; rejects with a message to show. */
  onRevoke(key: ApiKeyJson): Promise<void>;
  onClose(): void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const ids = useId();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useLayoutEffect(() => {
    const el = dialog.current;
    if (apiKey && el && !el.open) {
      setError(null);
      el.showModal();
      cancel.current?.focus(); // the safe choice takes the keyboard
    } else if (!apiKey && el?.open) el.close();
  }, [apiKey]);

  const revoke = async () => {
    if (!apiKey) return;
    setBusy(true);
    setError(null);
    try {
      await onRevoke(apiKey);
      onClose();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog ref={dialog} className="settings-dialog" role="alertdialog" aria-labelledby={`${ids}-title`} aria-describedby={`${ids}-what`} onClose={onClose} data-testid="revoke-dialog">
      <div className="settings-form">
        <h2 id={`${ids}-title`}>Revoke the key “{apiKey?.name}”?</h2>
        <p id={`${ids}-what`}>
          {apiKey ? `${apiKey.prefix}… of ${apiKey.owner}` : ''}: it stops working at once, on every instance of Jarvis, and answers streaming with it now end.
          This cannot be undone; its conversations and usage stay.
        </p>
        {error ? <p className="settings-error" role="alert">{error}</p> : null}
        <div className="settings-actions">
          <button type="button" ref={cancel} className="small-button ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="small-button danger" disabled={busy} onClick={() => void revoke()}>
            {busy ? 'Revoking…' : 'Revoke key'}
          </button>
        </div>
      </div>
    </dialog>
  );
}
