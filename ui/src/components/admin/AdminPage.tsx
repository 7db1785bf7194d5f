// The admin page at /admin (docs/ui.md "Admin page"): the stored keys and everyone's usage.
// Offered only to admins (GET /v1/me); anyone else who opens the address is told it is not
// theirs, and where their own usage is. The server refuses the admin routes to them anyway.

import type { ReactNode } from 'react';
import type { Api } from '../../../../src/client/api.js';
import type { CreatedApiKeyJson } from '../../../../src/shared/team/admin.js';
import type { MeState } from '../../hooks/useMe.js';
import { AllUsage } from '../usage/AllUsage.js';
import { Who } from '../shell/Who.js';
import { KeysSection } from './KeysSection.js';
import './admin.css';

export function AdminPage({ api, me, created, onCreated }: {
  api: Api;
  me: MeState & { reload(): void };
  created: CreatedApiKeyJson | null;
  onCreated(key: CreatedApiKeyJson | null): void;
}) {
  if (me.state === 'loading') return <Notice title="Admin" status>Checking who you are…</Notice>;
  if (me.state === 'missing') return <Notice title="No admin page here">This Jarvis has no keys or usage to manage: it is older than the admin page.</Notice>;
  if (me.state === 'error') {
    return (
      <Notice title="Admin">
        Could not ask Jarvis who you are: {me.message}{' '}
        <button type="button" className="small-button" onClick={me.reload}>Try again</button>
      </Notice>
    );
  }
  if (!me.me.admin) {
    return (
      <Notice title="For admins only">
        This page manages keys and shows everyone’s usage: it is for Jarvis’s admins, and you are signed in as <Who me={me.me} />. Your own
        usage is in the chat’s Settings, under Usage.
      </Notice>
    );
  }
  return (
    <div className="admin-page">
      <header className="admin-header">
        <h1>Jarvis admin</h1>
        <Who me={me.me} />
        <a className="small-button" href="/ops">Live timeline</a>
        <a className="small-button" href="/">Back to the chat</a>
      </header>
      <main className="admin-main">
        <KeysSection api={api} openJarvis={me.me.via === 'none'} created={created} onCreated={onCreated} />
        <AllUsage api={api} />
      </main>
    </div>
  );
}

function Notice({ title, status = false, children }: { title: string; status?: boolean; children: ReactNode }) {
  return (
    <main className="admin-page admin-notice" data-testid="admin-notice">
      <div className="unavailable-card" role={status ? 'status' : 'alert'}>
        <h1>{title}</h1>
        <p>{children}</p>
        <a className="small-button primary" href="/">Back to the chat</a>
      </div>
    </main>
  );
}
