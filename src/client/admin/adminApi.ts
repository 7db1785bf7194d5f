// Who the caller is, the stored keys and the usage, as the UI, the CLI and the tests call
// them (docs/team.md "Keys" and "Usage and limits"; wire shapes: src/shared/team/admin.ts).
// Each failed call throws an ApiCallError with the status and the registry's code, so a
// caller tells "not an admin" (403) from "no such key" (404) or an older server (404 on /v1/me).

import type { ApiKeyJson, ApiKeyPatchJson, CreatedApiKeyJson, MeJson, NewApiKeyJson, UsageJson } from '../../shared/team/admin.js';
import { type Api, ApiCallError, callJson } from '../api.js';

export { ApiCallError };

/** A range of UTC days, both ends included (`YYYY-MM-DD`); `owner` and `key_id` narrow an admin's view. */
export interface UsageQuery {
  from: string;
  to: string;
  owner?: string;
  key_id?: string;
}

/** Who Jarvis takes the caller for (`GET /v1/me`). */
export function me(api: Api, signal?: AbortSignal): Promise<MeJson> {
  return callJson<MeJson>(api, '/v1/me', { signal });
}

/** The stored keys, newest first; revoked ones only with `includeRevoked` (admins only: 403 otherwise). */
export async function listKeys(api: Api, options: { includeRevoked?: boolean } = {}, signal?: AbortSignal): Promise<ApiKeyJson[]> {
  const query = options.includeRevoked ? '?include_revoked=true' : '';
  return (await callJson<{ object: 'list'; data: ApiKeyJson[] }>(api, `/v1/admin/keys${query}`, { signal })).data;
}

/** Creates a key; the answer carries the key itself, this once (Jarvis keeps only its hash). */
export function createKey(api: Api, body: NewApiKeyJson, signal?: AbortSignal): Promise<CreatedApiKeyJson> {
  return callJson<CreatedApiKeyJson>(api, '/v1/admin/keys', { method: 'POST', json: body, signal });
}

/**
 * Changes a key's name, expiry or limits (`PATCH`): only the fields given change; `null`
 * clears an expiry or the limits. Answers the key as it now is; 404 for no such key, 400
 * with the server's words for a field it refuses. Its owner and role never change.
 */
export function updateKey(api: Api, id: string, patch: ApiKeyPatchJson, signal?: AbortSignal): Promise<ApiKeyJson> {
  return callJson<ApiKeyJson>(api, `/v1/admin/keys/${encodeURIComponent(id)}`, { method: 'PATCH', json: patch, signal });
}

/** Revokes a key (`key_…`): it stops working on every instance, its running answers end. */
export async function revokeKey(api: Api, id: string, signal?: AbortSignal): Promise<void> {
  await callJson<unknown>(api, `/v1/admin/keys/${encodeURIComponent(id)}`, { method: 'DELETE', signal });
}

/** The caller's own usage, or everyone's for an admin, per day, key and model. */
export function usage(api: Api, query: UsageQuery, signal?: AbortSignal): Promise<UsageJson> {
  const params = new URLSearchParams({ from: query.from, to: query.to });
  if (query.owner) params.set('owner', query.owner);
  if (query.key_id) params.set('key_id', query.key_id);
  return callJson<UsageJson>(api, `/v1/usage?${params.toString()}`, { signal });
}

/** The caller may not do this: a key without the admin role (403), or no key at all (401). */
export function isRefused(err: unknown): boolean {
  return err instanceof ApiCallError && (err.status === 401 || err.status === 403);
}

/** The server does not have this route: a Jarvis from before keys and usage. */
export function isMissing(err: unknown): boolean {
  return err instanceof ApiCallError && err.status === 404;
}
