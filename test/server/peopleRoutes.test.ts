import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';
import { FAKE_MODEL, seedPerson } from '../helpers/personData.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/services/postgres.js';
import { jarvis as cli } from '../cli/pullCli.js';

// A person's data through a running Jarvis on Postgres (docs/api.md "A person's data"):
// GET /v1/admin/users/{name}/export and DELETE /v1/admin/users/{name}, admins only; a delete
// stops the person's running answers first. `jarvis users … --url` calls them.

const ALICE = 'alice-key-0123456789abcdef';
const BOB = 'bob-key-0123456789abcdefgh';
const OPS = 'ops-key-0123456789abcdefgh';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

const skip = postgresUnavailable();
let postgres: TestPostgres | undefined;
let j: TestJarvis;

beforeAll(async () => {
  if (skip) return;
  postgres = await startPostgres();
  j = await startTestJarvis({ JARVIS_API_KEYS: `alice:${ALICE},bob:${BOB}`, JARVIS_ADMIN_KEYS: `ops:${OPS}`, DATABASE_URL: await postgres.newDatabase() });
}, 60_000);
afterAll(async () => {
  await j?.close();
  await postgres?.stop();
});

async function call(method: string, path: string, key: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${j.url}${path}`, { method, headers: bearer(key) });
  return { status: res.status, body: await res.json() };
}

describe.skipIf(skip)('the admin routes of a person\'s data, on Postgres', () => {
  it('exports and deletes one person, stopping their running answer first; admins only', { timeout: 60_000 }, async () => {
    const alice = await seedPerson(j.url, ALICE, 'alice trip');
    await seedPerson(j.url, BOB, 'bob recipes');
    expect((await call('GET', '/v1/admin/users/alice/export', ALICE)).body.error.code).toBe('admin_required');
    expect((await call('DELETE', '/v1/admin/users/bob', ALICE)).status).toBe(403);

    // A stored key of hers, used once: it and its usage are her data too.
    const created = await fetch(`${j.url}/v1/admin/keys`, { method: 'POST', headers: { ...bearer(OPS), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'alice-laptop', owner: 'alice' }) });
    const laptop = (await created.json()) as { id: string; key: string };
    const used = await fetch(`${j.url}/v1/chat/completions`, { method: 'POST', headers: { ...bearer(laptop.key), 'content-type': 'application/json' }, body: JSON.stringify({ model: FAKE_MODEL, stream: false, messages: [{ role: 'user', content: 'hi' }] }) });
    expect(used.status).toBe(200);

    const exported = await call('GET', '/v1/admin/users/alice/export', OPS);
    expect(exported.status).toBe(200);
    expect(exported.body).toMatchObject({ object: 'person_export', version: 1, name: 'alice', counts: { conversations: 1, messages: 3, responses: 1, keys: 1, usage_rows: 2 } });
    expect(exported.body.keys).toMatchObject([{ id: laptop.id, name: 'alice-laptop', owner: 'alice', revoked_at: null }]);
    expect(JSON.stringify(exported.body)).not.toContain(laptop.key);
    expect(exported.body.usage.map((r: { key_id: string }) => r.key_id).sort()).toEqual(['env:alice', laptop.id].sort());
    expect(exported.body.conversations[0].messages[0].attachments[0]).toMatchObject({ name: 'notes.txt', text: 'alice trip notes' });
    expect(exported.body.responses[0]).toMatchObject({ id: alice.responseId, status: 'completed' });
    await waitForLog(j.logFile, 'user_exported', { user: 'alice', by: 'ops', conversations: '1' });

    // An answer of alice's is streaming when she is deleted: it is stopped first.
    j.fake!.plan = () => ({ tokens: Array.from({ length: 2000 }, (_, i) => `t${i} `), tokenMs: 10 });
    const live = chat(j.url, { session: 'alice-live', headers: bearer(ALICE) });
    await live.firstToken();
    const deleted = await call('DELETE', '/v1/admin/users/alice', OPS);
    expect(deleted).toMatchObject({ status: 200, body: { object: 'person_deleted', name: 'alice', streams_stopped: 1, deleted: { conversations: 1, responses: 1, keys: 1 } } });
    expect(deleted.body.deleted.usage_rows).toBeGreaterThanOrEqual(2);
    // Her stored key is refused at once; the row stays, revoked, without her name.
    const refused = await call('GET', '/v1/conversations', laptop.key);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('api_key_revoked');
    expect(JSON.stringify((await call('GET', '/v1/admin/keys?include_revoked=true', OPS)).body)).not.toContain('alice');
    expect((await live.finished).at(-1)).toMatchObject({ type: 'cancelled' });
    await waitForLog(j.logFile, 'user_deleted', { user: 'alice', by: 'ops', streams_stopped: '1', conversations: '1', responses: '1' });

    expect((await call('GET', '/v1/conversations', ALICE)).body.data).toEqual([]);
    expect((await call('GET', `/v1/responses/${alice.responseId}`, ALICE)).status).toBe(404);
    expect((await call('GET', '/v1/conversations', BOB)).body.data.map((c: { title: string }) => c.title)).toEqual(['bob recipes']);
    expect((await call('GET', '/v1/admin/users/alice/export', OPS)).body.counts).toMatchObject({ conversations: 0, messages: 0, responses: 0, keys: 0 });
  });

  it('jarvis users --url asks the running Jarvis with the admin key in JARVIS_API_KEY', { timeout: 60_000 }, async () => {
    const env = { JARVIS_API_KEY: OPS };
    const exported = await cli(['users', 'export', 'bob', '--url', j.url], env);
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ name: 'bob', counts: { conversations: 1, responses: 1 } });
    const refused = await cli(['users', 'delete', 'bob', '--yes', '--url', j.url], { JARVIS_API_KEY: BOB });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/answered 403: this route needs an admin.*set JARVIS_API_KEY to an admin key/);
    const deleted = await cli(['users', 'delete', 'bob', '--yes', '--url', j.url], env);
    expect(deleted.stdout).toBe('deleted bob: 0 keys, 1 conversations, 1 responses, 1 usage rows\n');
    expect((await call('GET', '/v1/conversations', BOB)).body.data).toEqual([]);
    const bad = await call('GET', `/v1/admin/users/${encodeURIComponent(' ')}/export`, OPS);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/the user name is empty/);
  });
});
