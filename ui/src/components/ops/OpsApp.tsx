// The page at /ops (docs/observability.md "The live timeline"): signs in as the admin page does
// (a 401 asks for a key), then shows the live timeline.

import { useSyncExternalStore } from 'react';
import type { Api } from '../../../../src/client/api.js';
import type { ApiKeyStore } from '../../lib/browser/auth.js';
import { SignIn } from '../shell/SignIn.js';
import { OpsPage } from './OpsPage.js';

export function OpsApp({ api, auth, signInApi }: { api: Api; auth: ApiKeyStore; signInApi: Api }) {
  const signInNeeded = useSyncExternalStore(auth.subscribe, () => auth.signInNeeded);
  const generation = useSyncExternalStore(auth.subscribe, () => auth.generation);
  if (signInNeeded) return <SignIn api={signInApi} store={auth} />;
  return <OpsPage key={generation} api={api} />;
}
