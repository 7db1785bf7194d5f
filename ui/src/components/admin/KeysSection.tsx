// The keys part of the admin page: create (the key shown once), list, edit, revoke.

import { useCallback, useEffect, useId, useRef, useState } from 'react';
import type { Api } from '../../../../src/client/api.js';
import { createKey, listKeys, revokeKey, updateKey } from '../../../../src/client/admin/adminApi.js';
import type { ApiKeyJson, ApiKeyPatchJson, CreatedApiKeyJson } from '../../../../src/shared/team/admin.js';
import { EditKeyDialog } from './EditKeyDialog.js';
import { KeyForm } from './KeyForm.js';
import { KeyList } from './KeyList.js';
import { NewKey } from './NewKey.js';
import { RevokeDialog } from './RevokeDialog.js';

export function KeysSection({ api, openJarvis, created, onCreated }: {
  api: Api;
  /** Jarvis runs without authentication (GET /v1/me said `via: none`). */
  openJarvis: boolean;
  /** The key just created, held by the page: it stays on screen even if the next call needs a sign-in. */
  created: CreatedApiKeyJson | null;
  onCreated(key: CreatedApiKeyJson | null): void;
}) {
  const ids = useId();
  const [keys, setKeys] = useState<ApiKeyJson[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [asking, setAsking] = useState<ApiKeyJson | null>(null);
  const [editing, setEditing] = useState<ApiKeyJson | null>(null);
  const [showRevoked, setShowRevoked] = useState(false);
  const [said, setSaid] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);

  const load = useCallback(
    (signal?: AbortSignal) =>
      listKeys(api, { includeRevoked: showRevoked }, signal).then(
        (list) => { setKeys(list); setError(null); },
        (err: unknown) => !signal?.aborted && setError(err instanceof Error ? err.message : String(err)),
      ),
    [api, showRevoked],
  );
  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  const create = async (body: Parameters<typeof createKey>[1]) => {
    const key = await createKey(api, body);
    onCreated(key);
    setSaid('');
    // Listed at once from the answer: on an open Jarvis the first key turns sign-in on, and a
    // read of the list now would be refused before this browser has a key.
    const { key: _secret, ...listed } = key;
    setKeys((list) => [listed, ...(list ?? []).filter((k) => k.id !== key.id)]);
  };

  // The row shows the key as the server now has it (its answer), with no second read.
  const save = async (key: ApiKeyJson, patch: ApiKeyPatchJson) => {
    const saved = await updateKey(api, key.id, patch);
    setKeys((list) => (list ?? []).map((k) => (k.id === saved.id ? saved : k)));
    setSaid(`Saved “${saved.name}”.`);
  };

  const revoke = async (key: ApiKeyJson) => {
    await revokeKey(api, key.id);
    setSaid(`Revoked “${key.name}”: it no longer works.`);
    await load();
  };

  return (
    <section className="admin-section" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`} ref={heading} tabIndex={-1}>Keys</h2>
      {created ? <NewKey created={created} onDone={() => { onCreated(null); heading.current?.focus(); }} /> : null}
      <KeyForm onCreate={create} firstKey={openJarvis && keys !== null && !keys.some((k) => !k.revoked_at)} />
      <div className="key-list-head">
        <h3>Stored keys</h3>
        <label>
          <input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked(e.target.checked)} />
          Show revoked keys
        </label>
        <p className="admin-note" role="status">{said}</p>
      </div>
      {error ? <p className="settings-error" role="alert">Could not list the keys: {error}</p> : null}
      {keys === null && !error ? <p className="admin-note" role="status">Reading the keys…</p> : null}
      {keys ? <KeyList keys={keys} onEdit={setEditing} onRevoke={setAsking} empty={showRevoked ? 'No stored keys yet.' : 'No active stored keys.'} /> : null}
      {/* Closed, the browser gives the focus back to the row's Edit button. */}
      <EditKeyDialog apiKey={editing} onSave={save} onClose={() => setEditing(null)} />
      <RevokeDialog
        apiKey={asking}
        onRevoke={revoke}
        onClose={() => { setAsking(null); heading.current?.focus(); }}
      />
    </section>
  );
}
