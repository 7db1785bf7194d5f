import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CreatedApiKeyJson } from '../../src/shared/team/admin.js';
import { jarvis } from '../cli/pullCli.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/services/postgres.js';

// `jarvis keys` (src/cli/keys/), the real CLI process, both ways: on the database (before
// Jarvis starts; on a shared Postgres while it runs) and through a running Jarvis (--url).

const servers: TestJarvis[] = [];
let postgres: TestPostgres | undefined;
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
afterAll(async () => {
  await postgres?.stop();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const status = async (url: string, key: string) => (await fetch(`${url}/v1/models`, { headers: bearer(key) })).status;

describe('jarvis keys', () => {
  it('creates the first admin key in the SQLite database before Jarvis starts; while it runs, points to --url, which manages keys', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'jarvis-keys-cli-')), 'data');
    const env = { JARVIS_DATA_DIR: dataDir };
    expect((await jarvis(['keys', 'list'], env)).stderr).toMatch(/no database at .*jarvis\.db/);
    const made = await jarvis(['keys', 'create', '--name', 'ops', '--role', 'admin', '--json'], env);
    expect(made.code, made.stderr).toBe(0);
    const ops = JSON.parse(made.stdout) as CreatedApiKeyJson;
    expect(ops).toMatchObject({ name: 'ops', owner: 'ops', role: 'admin', created_by: 'cli', key: expect.stringMatching(/^jk-/) });
    const human = await jarvis(['keys', 'create', '--name', 'ci', '--expires', '90d', '--rpm', '30', '--max-streams', '2'], env);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^Created key_[0-9a-f]+ "ci" \(owner ci, role user, expires 20\d\d-.*, limits rpm=30 max_streams=2\)\.\nThe key, shown this once/);
    const list = await jarvis(['keys', 'list'], env);
    expect(list.stdout).toMatch(/^ID +NAME +OWNER +ROLE +PREFIX +STATUS/);
    expect(list.stdout).toContain(`${ops.prefix}…`);
    expect(list.stdout).not.toContain(ops.key);
    expect((await jarvis(['keys', 'create', '--name', 'x', '--role', 'root'], env)).stderr).toContain('"role" must be "user" or "admin"');

    // Jarvis starts with authentication on: the stored keys are its only keys.
    const j = await startTestJarvis({ JARVIS_BACKEND: 'demo', JARVIS_DATA_DIR: dataDir });
    servers.push(j);
    expect((await fetch(`${j.url}/v1/models`)).status).toBe(401);
    expect(await status(j.url, ops.key)).toBe(200);
    const locked = await jarvis(['keys', 'list'], env);
    expect(locked.code).toBe(1);
    expect(locked.stderr).toContain('is in use by a running Jarvis');
    expect(locked.stderr).toContain('--url');

    const remote = { JARVIS_ADMIN_KEY: ops.key };
    const bob = JSON.parse((await jarvis(['keys', 'create', '--url', j.url, '--name', 'bob', '--json'], remote)).stdout) as CreatedApiKeyJson;
    expect(bob).toMatchObject({ name: 'bob', created_by: 'ops' });
    expect(await status(j.url, bob.key)).toBe(200);
    const listed = JSON.parse((await jarvis(['keys', 'list', '--url', j.url, '--json'], remote)).stdout);
    expect(listed.data.map((k: { name: string }) => k.name).sort()).toEqual(['bob', 'ci', 'ops']);
    const revoked = await jarvis(['keys', 'revoke', bob.prefix, '--url', j.url], remote);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`Revoked ${bob.id} "bob"`);
    expect(await status(j.url, bob.key)).toBe(401);
    expect((await jarvis(['keys', 'revoke', 'key_nope', '--url', j.url], remote)).stderr).toContain('no key key_nope');
    const noAdmin = await jarvis(['keys', 'list', '--url', j.url], { JARVIS_ADMIN_KEY: '' });
    expect(noAdmin.code).toBe(1);
    expect(noAdmin.stderr).toContain('give an admin key with --key');
    // A dozen CLI processes (each starts tsx) and SQLite's 5 s busy wait: generous on a loaded machine.
  }, 180_000);

  it.skipIf(postgresUnavailable())('on a shared Postgres it works while Jarvis runs: a key made there works at once, revoked there stops within a second', async () => {
    postgres = await startPostgres();
    const databaseUrl = await postgres.newDatabase();
    // An environment key keeps authentication on whatever the stored keys do.
    const j = await startTestJarvis({ JARVIS_BACKEND: 'demo', DATABASE_URL: databaseUrl, JARVIS_ADMIN_KEYS: 'ops:ops-key-0123456789abcdef' });
    servers.push(j);
    const made = await jarvis(['keys', 'create', '--name', 'erin', '--json'], { DATABASE_URL: databaseUrl });
    expect(made.code, made.stderr).toBe(0);
    const erin = JSON.parse(made.stdout) as CreatedApiKeyJson;
    expect(await status(j.url, erin.key)).toBe(200);
    const revoked = await jarvis(['keys', 'revoke', erin.id], { DATABASE_URL: databaseUrl });
    expect(revoked.code, revoked.stderr).toBe(0);
    const since = performance.now();
    await expect.poll(() => status(j.url, erin.key), { timeout: 1000, interval: 20 }).toBe(401);
    expect(performance.now() - since).toBeLessThan(1000);
  }, 60_000);
});
