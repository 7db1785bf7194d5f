import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PersonExportJson } from '../../src/shared/team/people.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events } from '../helpers/log.js';
import { seedPerson } from '../helpers/personData.js';
import { jarvis } from './pullCli.js';

// `jarvis users export|delete` on the SQLite database itself (docs/team.md "7. A person's data:
// export and delete"): with Jarvis stopped it reads and deletes one person's data; while Jarvis
// runs it says the file is held and how to ask the running Jarvis instead.

const ALICE = 'alice-key-0123456789abcdef';
const BOB = 'bob-key-0123456789abcdefgh';
const KEYS = { JARVIS_API_KEYS: `alice:${ALICE},bob:${BOB}` };

const servers: TestJarvis[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
async function start(env: Record<string, string> = {}): Promise<TestJarvis> {
  const j = await startTestJarvis({ ...KEYS, ...env });
  servers.push(j);
  return j;
}

describe('jarvis users on SQLite', () => {
  it('exports one person whole, deletes them (only with --yes), and leaves the others', { timeout: 120_000 }, async () => {
    const j = await start();
    const alice = await seedPerson(j.url, ALICE, 'alice trip');
    await seedPerson(j.url, BOB, 'bob recipes');
    const env = { JARVIS_DATA_DIR: j.dataDir, JARVIS_LOG_FILE: j.logFile, DATABASE_URL: undefined };

    // While Jarvis runs, its SQLite file is its own: said, with the way round it.
    const held = await jarvis(['users', 'export', 'alice'], env);
    expect(held.code).toBe(2);
    expect(held.stderr).toMatch(/in use by a running Jarvis.*Stop Jarvis and run this again, or ask the running Jarvis: add --url/);
    await servers.splice(0)[0]!.close();

    const out = join(mkdtempSync(join(tmpdir(), 'jarvis-users-')), 'alice.json');
    const exported = await jarvis(['users', 'export', 'alice', '--out', out], env);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(exported.stdout).toBe(`exported alice: 1 conversations, 3 messages, 1 responses, 0 keys, 1 usage rows into ${out}\n`);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const data = JSON.parse(readFileSync(out, 'utf8')) as PersonExportJson;
    expect(data).toMatchObject({ object: 'person_export', version: 1, name: 'alice', counts: { conversations: 1, messages: 3, responses: 1, usage_rows: 1 } });
    // Their usage record: the stored response's request (one key, one model, one day).
    expect(data.usage).toMatchObject([{ owner: 'alice', key_id: 'env:alice', requests: 1 }]);
    const [conv] = data.conversations;
    expect(conv).toMatchObject({ id: alice.conversationId, title: 'alice trip' });
    // Every branch, the file with its text.
    expect(conv!.messages.map((m) => m.content)).toEqual(['alice trip: what is in the file?', 'first answer', 'second answer']);
    expect(conv!.messages[0]).toMatchObject({ attachments: [{ type: 'file', name: 'notes.txt', text: 'alice trip notes' }] });
    expect(data.responses.map((r) => r.id)).toEqual([alice.responseId]);
    expect(JSON.stringify(data)).not.toContain('bob');
    // An export is not written over an existing file.
    expect((await jarvis(['users', 'export', 'alice', '--out', out], env)).stderr).toMatch(/exists already/);

    const dry = await jarvis(['users', 'delete', 'alice'], env);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toBe('alice has 1 conversations, 3 messages, 1 responses, 0 keys, 1 usage rows. Nothing was deleted: run again with --yes to delete it all.\n');
    const deleted = await jarvis(['users', 'delete', 'alice', '--yes'], env);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toBe('deleted alice: 0 keys, 1 conversations, 1 responses, 1 usage rows\n');
    const after = await jarvis(['users', 'export', 'alice'], env);
    expect(JSON.parse(after.stdout)).toMatchObject({ conversations: [], responses: [], usage: [], counts: { conversations: 0, messages: 0, responses: 0, usage_rows: 0 } });
    expect(events(j.logFile, 'user_deleted', { user: 'alice', by: 'cli' })).toHaveLength(1);
    expect(events(j.logFile, 'user_exported', { user: 'alice', by: 'cli' })).toHaveLength(2);

    // Jarvis again on the same file: alice has nothing, bob all of his; alice's export imports back.
    const again = await start({ JARVIS_DATA_DIR: j.dataDir });
    const list = async (key: string) => ((await (await fetch(`${again.url}/v1/conversations`, { headers: { authorization: `Bearer ${key}` } })).json()) as { data: Array<{ title: string }> }).data.map((c) => c.title);
    expect(await list(ALICE)).toEqual([]);
    expect(await list(BOB)).toEqual(['bob recipes']);
    const gone = await fetch(`${again.url}/v1/responses/${alice.responseId}`, { headers: { authorization: `Bearer ${ALICE}` } });
    expect(gone.status).toBe(404);
    const tree = conv!;
    const reimport = await fetch(`${again.url}/v1/conversations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: tree.title, messages: tree.messages.map((m) => ({ id: m.id, parent_id: m.parent_id, role: m.role, content: m.content, ...('attachments' in m ? { attachments: m.attachments } : {}) })), current_message_id: tree.current_message_id }),
    });
    expect(reimport.status).toBe(201);
  });

  it('says what is wrong: no such database, a bad name, a missing action', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'jarvis-users-none-'));
    const none = await jarvis(['users', 'export', 'alice'], { JARVIS_DATA_DIR: empty, DATABASE_URL: undefined });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no database at .*jarvis\.db: set JARVIS_DATA_DIR \(or DATABASE_URL\)/);
    const bad = await jarvis(['users', 'delete', ''], { JARVIS_DATA_DIR: empty });
    expect(bad.stderr).toMatch(/the name is empty/);
    const what = await jarvis(['users', 'purge', 'alice'], { JARVIS_DATA_DIR: empty });
    expect(what.code).toBe(2);
    expect(what.stderr).toMatch(/unknown action "purge": export or delete[\s\S]*Usage: jarvis users export/);
  });
});
