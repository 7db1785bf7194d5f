import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresDialect, sqliteDialect } from '../../src/store/dialects.js';
import { createApiKey, hashKey } from '../../src/store/keys/secret.js';
import { SqlConversationStore } from '../../src/store/sqlStore.js';
import type { ConversationStore } from '../../src/store/types.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/services/postgres.js';

// store.keys (src/store/keys/) on every database: SQLite always, Postgres when this machine has it.

let postgres: TestPostgres | undefined;
const pgSkip = postgresUnavailable();
if (pgSkip) console.warn(pgSkip);

const DATABASES: Array<{ name: string; open(): Promise<ConversationStore> }> = [
  { name: 'sqlite', open: async () => (await SqlConversationStore.open(sqliteDialect(join(mkdtempSync(join(tmpdir(), 'jarvis-keys-')), 'data')))).store },
  ...(pgSkip ? [] : [{ name: 'postgres', open: async () => (await SqlConversationStore.open(postgresDialect(await postgres!.newDatabase()))).store }]),
];

beforeAll(async () => {
  if (!pgSkip) postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

const init = { owner: 'alice@example.com', role: 'user' as const, expiresAt: null, limits: null, createdBy: 'ops' };

describe.each(DATABASES)('store.keys on $name', (db) => {
  let store: ConversationStore;
  beforeAll(async () => {
    store = await db.open();
  });
  afterAll(async () => {
    await store.close();
  });

  it('keeps a key only as its hash, finds it by hash, id and prefix, lists newest first', async () => {
    const a = await createApiKey(store.keys, { ...init, name: 'a', limits: { rpm: 5 } }, 1_000);
    const b = await createApiKey(store.keys, { ...init, name: 'b', role: 'admin', expiresAt: 9_000_000_000_000 }, 2_000);
    expect(a.key.hash).toBe(hashKey(a.secret));
    expect(a.key.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.key.prefix).toBe(a.secret.slice(0, 10));
    expect(await store.keys.byHash(hashKey(a.secret))).toEqual(a.key);
    expect(await store.keys.byHash(hashKey(`${a.secret}x`))).toBeUndefined();
    expect(await store.keys.get(b.key.id)).toMatchObject({ name: 'b', role: 'admin', expiresAt: 9_000_000_000_000, limits: null, createdBy: 'ops' });
    expect((await store.keys.byPrefix(a.key.prefix.slice(0, 8))).map((k) => k.id)).toContain(a.key.id);
    expect((await store.keys.list({ includeRevoked: false })).map((k) => k.name)).toEqual(['b', 'a']);
    expect(await store.keys.countActive(3_000)).toBe(2);
    // No two keys share a hash.
    await expect(store.keys.create({ ...a.key, id: 'key_other' })).rejects.toThrow();
  });

  it('revokes once (idempotent), expires by time, reports changes since a time, records use without a change', async () => {
    const k = await createApiKey(store.keys, { ...init, name: 'c', expiresAt: 50_000 }, 10_000);
    expect((await store.keys.changedSince(9_999)).map((x) => x.id)).toContain(k.key.id);
    expect(await store.keys.countActive(60_000)).toBe(2); // a and b of the test before; c has expired by then
    await store.keys.touch(k.key.id, 20_000);
    expect((await store.keys.get(k.key.id))?.lastUsedAt).toBe(20_000);
    expect((await store.keys.changedSince(10_000)).map((x) => x.id)).not.toContain(k.key.id);
    const revoked = await store.keys.revoke(k.key.id, 30_000);
    expect(revoked).toMatchObject({ revokedAt: 30_000, updatedAt: 30_000 });
    expect((await store.keys.revoke(k.key.id, 40_000))?.revokedAt).toBe(30_000);
    expect(await store.keys.revoke('key_unknown', 40_000)).toBeUndefined();
    expect((await store.keys.list({ includeRevoked: false })).map((x) => x.name)).not.toContain('c');
    expect((await store.keys.list({ includeRevoked: true })).map((x) => x.name)).toContain('c');
    const updated = await store.keys.update(k.key.id, { name: 'c2', limits: { tpm: 10 }, expiresAt: null }, 45_000);
    expect(updated).toMatchObject({ name: 'c2', limits: { tpm: 10 }, expiresAt: null, updatedAt: 45_000, revokedAt: 30_000 });
    expect((await store.keys.changedSince(44_999)).map((x) => x.id)).toEqual([k.key.id]);
  });
});
