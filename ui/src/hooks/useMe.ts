// Who Jarvis takes this browser for (GET /v1/me; docs/ui.md "Who is signed in"): the name,
// whether an admin (the admin page is offered only then) and the limits that apply.
// Read again after each sign-in (`generation`). A Jarvis without the route (older than
// keys and usage) answers 404: `missing`, and the UI shows no account.

import { useCallback, useEffect, useState } from 'react';
import type { Api } from '../../../src/client/api.js';
import { isMissing, me as readMe } from '../../../src/client/admin/adminApi.js';
import type { MeJson } from '../../../src/shared/team/admin.js';

export type MeState =
  | { state: 'loading' }
  | { state: 'ok'; me: MeJson }
  | { state: 'missing' }
  | { state: 'error'; message: string };

export function useMe(api: Api, generation = 0): MeState & { reload(): void } {
  const [state, setState] = useState<MeState>({ state: 'loading' });
  const [asked, setAsked] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    readMe(api, controller.signal).then(
      (me) => setState({ state: 'ok', me }),
      (err: unknown) => {
        if (controller.signal.aborted) return;
        setState(isMissing(err) ? { state: 'missing' } : { state: 'error', message: err instanceof Error ? err.message : String(err) });
      },
    );
    return () => controller.abort();
  }, [api, generation, asked]);
  const reload = useCallback(() => setAsked((n) => n + 1), []);
  return { ...state, reload };
}

/** The name to show: '' (Jarvis without keys) reads as such. */
export function displayName(me: MeJson): string {
  return me.name || 'Anyone (no sign-in)';
}
