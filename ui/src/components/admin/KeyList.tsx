// The stored keys (docs/ui.md "Admin page"): never a key itself, only its first characters,
// with who it is for, its role, times, limits and state; Edit opens EditKeyDialog on an active
// key; Revoke asks first (RevokeDialog).
// Keys from the environment (JARVIS_API_KEYS) are not stored and not listed here.

import { describeLimits, keyState } from '../../../../src/client/admin/usageSummary.js';
import type { ApiKeyJson } from '../../../../src/shared/team/admin.js';
import { shortTime } from './format.js';

export function KeyList({ keys, onEdit, onRevoke, empty }: { keys: ApiKeyJson[]; onEdit(key: ApiKeyJson): void; onRevoke(key: ApiKeyJson): void; empty: string }) {
  if (keys.length === 0) return <p className="admin-note" data-testid="no-keys">{empty}</p>;
  const now = new Date();
  return (
    <div className="table-scroll" role="region" aria-label="Stored keys" tabIndex={0}>
      <table className="key-table" data-testid="key-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key</th>
            <th scope="col">Owner</th>
            <th scope="col">Role</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">Limits</th>
            <th scope="col">Status</th>
            <th scope="col"><span className="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => {
            const state = keyState(k, now);
            return (
              <tr key={k.id} data-key-id={k.id} className={state === 'active' ? undefined : 'key-inactive'}>
                <th scope="row">{k.name}</th>
                <td><code>{k.prefix}…</code></td>
                <td>{k.owner}</td>
                <td>{k.role === 'admin' ? <span className="badge admin-badge">Admin</span> : 'User'}</td>
                <td><Time iso={k.created_at} /></td>
                <td>{k.expires_at ? <Time iso={k.expires_at} /> : 'Never'}</td>
                <td>{k.last_used_at ? <Time iso={k.last_used_at} /> : 'Never'}</td>
                <td>{describeLimits(k.limits, k.role === 'admin' ? 'None' : 'Jarvis’s default')}</td>
                <td>
                  <span className={`badge key-state ${state}`}>{STATE_TEXT[state]}</span>
                  {state === 'revoked' && k.revoked_at ? <> <Time iso={k.revoked_at} /></> : null}
                </td>
                <td className="key-actions">
                  {state === 'active' ? (
                    <button type="button" className="small-button" aria-label={`Edit ${k.name}`} onClick={() => onEdit(k)}>
                      Edit
                    </button>
                  ) : null}
                  {state === 'revoked' ? null : (
                    <button type="button" className="small-button danger" aria-label={`Revoke ${k.name}`} onClick={() => onRevoke(k)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

const STATE_TEXT = { active: 'Active', expired: 'Expired', revoked: 'Revoked' } as const;

function Time({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={iso}>
      {shortTime(iso)}
    </time>
  );
}
