import type { ApiKeyJson, ApiKeyListJson, CreatedApiKeyJson, NewApiKeyJson } from '../../shared/team/admin.js';
import { AdminCallError, adminCall } from '../admin/adminCall.js';
import type { KeysBackend } from './keysBackend.js';
import { KeysFailure } from './keysBackend.js';

/** `jarvis keys --url`: the admin API of a running Jarvis (docs/api.md "Keys"). */
export function remoteKeys(url: string, adminKey: string | undefined): KeysBackend {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    try {
      return await adminCall<T>(url, adminKey, path, { method, json: body, timeoutMs: 15_000, keyHint: 'give an admin key with --key, or JARVIS_ADMIN_KEY' });
    } catch (err) {
      // A request the server found wrong is a usage mistake (exit 2), as the CLI's own checks are.
      if (err instanceof AdminCallError) throw new KeysFailure(err.message, err.status === 400 ? 2 : 1);
      throw err;
    }
  };
  return {
    where: url,
    create: (body: NewApiKeyJson) => call<CreatedApiKeyJson>('POST', '/v1/admin/keys', body),
    list: async (includeRevoked: boolean) => (await call<ApiKeyListJson>('GET', `/v1/admin/keys${includeRevoked ? '?include_revoked=true' : ''}`)).data,
    revoke: (id: string) => call<ApiKeyJson>('DELETE', `/v1/admin/keys/${encodeURIComponent(id)}`),
    close: async () => {},
  };
}
