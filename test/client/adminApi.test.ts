import { afterEach, describe, expect, it } from 'vitest';
import { ApiCallError, createKey, isMissing, isRefused, listKeys, me, revokeKey, updateKey, usage } from '../../src/client/admin/adminApi.js';
import { utcDay } from '../../src/client/admin/usageSummary.js';
import type { Api } from '../../src/client/api.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';

// The client core's calls of a team's Jarvis (src/client/admin/adminApi.ts) against a real
// Jarvis: who the caller is, keys created, listed, changed and revoked, usage; refusals as typed errors.

const ROOT = 'root-admin-key-0123456789abcdef';
let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});

const as = (key: string): Api => ({
  base: j!.url,
  fetch: (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${key}`);
    return fetch(input, { ...init, headers });
  },
});

describe('the admin API from the client core', () => {
  it('me, create, list, revoke and usage; a non-admin and a revoked key refused with their status and code', async () => {
    j = await startTestJarvis({ JARVIS_ADMIN_KEYS: `root:${ROOT}` });
    const root = as(ROOT);
    expect(await me(root)).toMatchObject({ object: 'principal', name: 'root', admin: true, via: 'env_key' });

    const created = await createKey(root, { name: 'erin-laptop', owner: 'erin', limits: { rpm: 5 } });
    expect(created).toMatchObject({ object: 'api_key', name: 'erin-laptop', owner: 'erin', role: 'user', limits: { rpm: 5 }, revoked_at: null });
    expect(created.key.startsWith(created.prefix)).toBe(true);
    const listed = await listKeys(root);
    expect(listed.map((k) => k.id)).toContain(created.id);
    expect(JSON.stringify(listed)).not.toContain(created.key);

    const erin = as(created.key);
    expect(await me(erin)).toMatchObject({ name: 'erin', admin: false, via: 'key', key_id: created.id, key_name: 'erin-laptop' });
    const refused = await listKeys(erin).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ApiCallError);
    expect(refused).toMatchObject({ status: 403 });
    expect(isRefused(refused)).toBe(true);

    const today = utcDay(new Date());
    const own = await usage(erin, { from: today, to: today });
    expect(own).toMatchObject({ object: 'usage', from: today, to: today, data: [], totals: { requests: 0 } });

    await revokeKey(root, created.id);
    expect((await listKeys(root)).map((k) => k.id)).not.toContain(created.id);
    expect((await listKeys(root, { includeRevoked: true })).find((k) => k.id === created.id)?.revoked_at).toEqual(expect.any(String));
    const gone = await me(erin).catch((err: unknown) => err);
    expect(gone).toMatchObject({ status: 401 });
    expect(isRefused(gone)).toBe(true);
    const missing = await revokeKey(root, 'key_does_not_exist').catch((err: unknown) => err);
    expect(isMissing(missing)).toBe(true);
  });

  it("me's limits are those that bound the caller: the key's own, else JARVIS_DEFAULT_LIMITS for a non-admin", async () => {
    j = await startTestJarvis({ JARVIS_ADMIN_KEYS: `root:${ROOT}`, JARVIS_DEFAULT_LIMITS: '{"rpm":30}' });
    const root = as(ROOT);
    expect((await me(root)).limits).toBeNull();
    const plain = await createKey(root, { name: 'plain' });
    const own = await createKey(root, { name: 'own', limits: { tokens_per_day: 500 } });
    expect((await me(as(plain.key))).limits).toEqual({ rpm: 30 });
    expect((await me(as(own.key))).limits).toEqual({ tokens_per_day: 500 });
  });

  it('updateKey changes only the fields given, clears with null, and throws the server\'s words on a 400 and 404', async () => {
    j = await startTestJarvis({ JARVIS_ADMIN_KEYS: `root:${ROOT}` });
    const root = as(ROOT);
    const created = await createKey(root, { name: 'frank', owner: 'frank', expires_at: '2099-01-31T00:00:00Z', limits: { rpm: 5 } });

    const renamed = await updateKey(root, created.id, { name: 'frank-desktop', limits: { rpm: 1, tokens_per_day: 900 } });
    expect(renamed).toMatchObject({ id: created.id, name: 'frank-desktop', owner: 'frank', role: 'user', limits: { rpm: 1, tokens_per_day: 900 } });
    expect(renamed.expires_at).toBe('2099-01-31T00:00:00.000Z');
    // The key itself is bound by the new limits at once, and says so.
    expect(await me(as(created.key))).toMatchObject({ key_name: 'frank-desktop', limits: { rpm: 1, tokens_per_day: 900 } });

    const cleared = await updateKey(root, created.id, { expires_at: null, limits: null });
    expect(cleared).toMatchObject({ name: 'frank-desktop', expires_at: null, limits: null });
    expect((await listKeys(root)).find((k) => k.id === created.id)).toEqual(cleared);

    const bad = await updateKey(root, created.id, { name: 'x'.repeat(70) }).catch((err: unknown) => err);
    expect(bad).toBeInstanceOf(ApiCallError);
    expect(bad).toMatchObject({ status: 400, code: 'invalid_request' });
    expect((bad as Error).message).toContain('"name" must be 1-64 characters');
    const missing = await updateKey(root, 'key_does_not_exist', { name: 'n' }).catch((err: unknown) => err);
    expect(isMissing(missing)).toBe(true);
    const notAdmin = await updateKey(as(created.key), created.id, { limits: null }).catch((err: unknown) => err);
    expect(isRefused(notAdmin)).toBe(true);
  });
});
