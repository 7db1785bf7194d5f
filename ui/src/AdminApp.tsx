// The page at /admin (docs/ui.md "Admin page"), instead of the chat: no conversation list, no
// feed. It signs in as the chat does (a 401 asks for a key) and reads who the caller is.

import { useState, useSyncExternalStore } from 'react';
import type { Api } from '../../src/client/api.js';
import type { CreatedApiKeyJson } from '../../src/shared/team/admin.js';
import { AdminPage } from './components/admin/AdminPage.js';
import { NewKey } from './components/admin/NewKey.js';
import { SignIn } from './components/shell/SignIn.js';
import { useMe } from './hooks/useMe.js';
import type { ApiKeyStore } from './lib/browser/auth.js';

export function AdminApp({ api, auth, signInApi }: { api: Api; auth: ApiKeyStore; signInApi: Api }) {
  const signInNeeded = useSyncExternalStore(auth.subscribe, () => auth.signInNeeded);
  const generation = useSyncExternalStore(auth.subscribe, () => auth.generation);
  const me = useMe(api, generation);
  // Kept here, above the sign-in: the first key of an open Jarvis turns sign-in on, and the
  // key must stay readable until it is copied, sign-in screen or not.
  const [created, setCreated] = useState<CreatedApiKeyJson | null>(null);
  if (signInNeeded) {
    return <SignIn api={signInApi} store={auth} before={created ? <NewKey created={created} onDone={() => setCreated(null)} /> : undefined} />;
  }
  return <AdminPage api={api} me={me} created={created} onCreated={setCreated} />;
}
