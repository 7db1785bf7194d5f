import { createRequire } from 'node:module';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKUPS_KEPT } from '../../src/server/operations/backup.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { StreamReader } from '../helpers/streamReader.js';

// POST /admin/backup (docs/conversations.md, "Where the data is"): Jarvis holds its SQLite
// file exclusively (no -shm mapping, docs/security.md), so a copy from another process cannot be
// taken while it runs; this one is taken on the store's own connection, consistent, admin keys only.

const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
const ALICE = 'alice-key-0123456789abcdef';
const OPS = 'ops-key-0123456789abcdef00';
const auth = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

let j: TestJarvis;
beforeAll(async () => {
  j = await startTestJarvis({ JARVIS_API_KEYS: `alice:${ALICE}`, JARVIS_ADMIN_KEYS: `ops:${OPS}` });
});
afterAll(async () => {
  await j.close();
});

async function call(key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${j.url}${path}`, { method, headers: auth(key), body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('backup while Jarvis runs', () => {
  it('copies the whole database, consistent, for an admin key; keeps the newest copies only', async () => {
    const conv = await call(ALICE, 'POST', '/v1/conversations', { title: 'kept in the backup' });
    const answer = new StreamReader((signal) => fetch(`${j.url}/v1/conversations/${conv.body.id}/messages`, { method: 'POST', headers: auth(ALICE), body: JSON.stringify({ content: 'hello' }), signal }));
    await answer.finished;

    // (That another process cannot read the live file is test/store/storeFaults.test.ts's: SQLite's
    // locks are per process, and on Node 24 this process's better-sqlite3 and Jarvis's node:sqlite
    // are two copies of SQLite that do not see each other's.)
    expect((await call(ALICE, 'POST', '/admin/backup')).status).toBe(403);
    const made = await call(OPS, 'POST', '/admin/backup');
    expect(made.status).toBe(200);
    expect(made.body.bytes).toBeGreaterThan(0);
    const copy = new Database(made.body.file, { readonly: true });
    try {
      expect(copy.prepare('select title from conversations where id = ?').get(conv.body.id)).toEqual({ title: 'kept in the backup' });
      expect(copy.prepare('pragma quick_check').get()).toEqual({ quick_check: 'ok' });
    } finally {
      copy.close();
    }

    for (let i = 0; i < BACKUPS_KEPT + 1; i++) expect((await call(OPS, 'POST', '/admin/backup')).status).toBe(200);
    expect(readdirSync(join(j.dataDir, 'backups')).filter((n) => n.endsWith('.db'))).toHaveLength(BACKUPS_KEPT);
    // Jarvis goes on serving after its copies.
    expect((await call(ALICE, 'GET', `/v1/conversations/${conv.body.id}`)).status).toBe(200);
  });
});
