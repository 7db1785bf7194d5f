// One `/v1/usage` read (docs/api.md "Usage"), again whenever the range changes or `reload` is called.

import { useCallback, useEffect, useState } from 'react';
import type { Api } from '../../../../src/client/api.js';
import { type UsageQuery, usage } from '../../../../src/client/admin/adminApi.js';
import type { UsageJson } from '../../../../src/shared/team/admin.js';

export type UsageState = { state: 'loading' } | { state: 'ok'; usage: UsageJson } | { state: 'error'; message: string };

/** `query` null: nothing read (a closed panel). */
export function useUsage(api: Api, query: UsageQuery | null): UsageState & { reload(): void } {
  const [state, setState] = useState<UsageState>({ state: 'loading' });
  const [asked, setAsked] = useState(0);
  const { from, to, owner, key_id } = query ?? { from: '', to: '' };
  const active = query !== null;
  useEffect(() => {
    if (!active) return;
    const controller = new AbortController();
    setState({ state: 'loading' });
    usage(api, { from, to, ...(owner ? { owner } : {}), ...(key_id ? { key_id } : {}) }, controller.signal).then(
      (answer) => setState({ state: 'ok', usage: answer }),
      (err: unknown) => !controller.signal.aborted && setState({ state: 'error', message: err instanceof Error ? err.message : String(err) }),
    );
    return () => controller.abort();
  }, [api, active, from, to, owner, key_id, asked]);
  const reload = useCallback(() => setAsked((n) => n + 1), []);
  return { ...state, reload };
}
