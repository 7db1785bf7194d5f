import type { ApiKeyJson, ApiKeyListJson, CreatedApiKeyJson, NewApiKeyJson } from '../../shared/admin.js';
import type { KeysBackend } from './keysBackend.js';
import { KeysFailure } from './keysBackend.js';

/** `jarvis keys --url`: the admin API of a running Jarvis (docs/api.md "Keys"). */
export function remoteKeys(url: string, adminKey: string | undefined): KeysBackend {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`${url}${path}`, {
        method,
        headers: { ...(adminKey ? { authorization: `Bearer ${adminKey}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      throw new KeysFailure(`cannot reach Jarvis at ${url}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new KeysFailure(`${method} ${path}: ${res.status}, not JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      const message = (parsed as { error?: { message?: string } }).error?.message ?? text.slice(0, 200);
      const hint = res.status === 401 || res.status === 403 ? ' (give an admin key with --key, or JARVIS_ADMIN_KEY)' : '';
      throw new KeysFailure(`${message}${hint}`, res.status === 400 ? 2 : 1);
    }
    return parsed as T;
  };
  return {
    where: url,
    create: (body: NewApiKeyJson) => call<CreatedApiKeyJson>('POST', '/v1/admin/keys', body),
    list: async (includeRevoked: boolean) => (await call<ApiKeyListJson>('GET', `/v1/admin/keys${includeRevoked ? '?include_revoked=true' : ''}`)).data,
    revoke: (id: string) => call<ApiKeyJson>('DELETE', `/v1/admin/keys/${encodeURIComponent(id)}`),
    close: async () => {},
  };
}
