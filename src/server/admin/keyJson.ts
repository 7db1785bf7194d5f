import type { ApiKeyJson, CreatedApiKeyJson } from '../../shared/team/admin.js';
import type { StoredApiKey } from '../../store/keys/types.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A stored key as the API shows it: never its hash, never the key. */
export function apiKeyJson(key: StoredApiKey): ApiKeyJson {
  return {
    object: 'api_key',
    id: key.id,
    name: key.name,
    owner: key.owner,
    role: key.role,
    prefix: key.prefix,
    created_at: new Date(key.createdAt).toISOString(),
    expires_at: iso(key.expiresAt),
    revoked_at: iso(key.revokedAt),
    last_used_at: iso(key.lastUsedAt),
    created_by: key.createdBy,
    limits: key.limits,
  };
}

export function createdApiKeyJson(key: StoredApiKey, secret: string): CreatedApiKeyJson {
  return { ...apiKeyJson(key), key: secret };
}
