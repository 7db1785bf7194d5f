import type { PersonDeletedJson, PersonExportJson } from '../../shared/people.js';
import { authHeaders } from '../../diagnostics/live/apiKey.js';
import type { PersonSource } from './source.js';

/**
 * A running Jarvis's admin routes (docs/api.md "A person's data"), with the admin key in
 * JARVIS_API_KEY (never a flag: it stays out of shell history and `ps`).
 */
export function overHttp(base: string, env: Record<string, string | undefined> = process.env): PersonSource {
  const call = async <T>(method: 'GET' | 'DELETE', path: string): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, { method, headers: authHeaders(env), signal: AbortSignal.timeout(120_000) });
    } catch (err) {
      throw new Error(`cannot reach Jarvis at ${base}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
    }
    const text = await res.text();
    if (res.ok) return JSON.parse(text) as T;
    let message = text.slice(0, 300);
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
    } catch {
      // not JSON: its first characters say it
    }
    const hint = res.status === 401 || res.status === 403 ? ' (set JARVIS_API_KEY to an admin key)' : '';
    throw new Error(`Jarvis at ${base} answered ${res.status}: ${message}${hint}`);
  };
  const path = (name: string) => `/v1/admin/users/${encodeURIComponent(name)}`;
  return {
    export: (name) => call<PersonExportJson>('GET', `${path(name)}/export`),
    counts: async (name) => (await call<PersonExportJson>('GET', `${path(name)}/export`)).counts,
    delete: (name) => call<PersonDeletedJson>('DELETE', path(name)),
    close: async () => {},
  };
}
