import type { PersonDeletedJson, PersonExportJson } from '../../shared/team/people.js';
import { AdminCallError, adminCall } from '../admin/adminCall.js';
import type { PersonSource } from './source.js';

/**
 * A running Jarvis's admin routes (docs/api.md "A person's data"), with the admin key in
 * JARVIS_API_KEY (never a flag: it stays out of shell history and `ps`).
 */
export function overHttp(base: string, env: Record<string, string | undefined> = process.env): PersonSource {
  const call = async <T>(method: 'GET' | 'DELETE', path: string): Promise<T> => {
    try {
      return await adminCall<T>(base, env.JARVIS_API_KEY?.trim() || undefined, path, { method, timeoutMs: 120_000, keyHint: 'set JARVIS_API_KEY to an admin key' });
    } catch (err) {
      if (err instanceof AdminCallError && err.status > 0) throw new Error(`Jarvis at ${base} answered ${err.status}: ${err.message}`);
      throw err;
    }
  };
  const path = (name: string) => `/v1/admin/users/${encodeURIComponent(name)}`;
  return {
    export: (name) => call<PersonExportJson>('GET', `${path(name)}/export`),
    counts: async (name) => (await call<PersonExportJson>('GET', `${path(name)}/export`)).counts,
    delete: (name) => call<PersonDeletedJson>('DELETE', path(name)),
    close: async () => {},
  };
}
