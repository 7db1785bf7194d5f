import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresDialect, sqliteDialect } from '../../../src/store/dialects.js';
import { ROW_BYTES } from '../../../src/store/quota.js';
import type { NewStoredResponse } from '../../../src/store/responses/types.js';
import { SqlConversationStore } from '../../../src/store/sqlStore.js';
import type { ConversationStore } from '../../../src/store/types.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../../helpers/services/postgres.js';

// The ResponseStore on every database (as test/store/store.contract.test.ts): SQLite
// always, Postgres when this machine has it.

let postgres: TestPostgres | undefined;
const pgSkip = postgresUnavailable();
const DATABASES: Array<{ name: string; open(): Promise<ConversationStore> }> = [
  { name: 'sqlite', open: async () => (await SqlConversationStore.open(sqliteDialect(join(mkdtempSync(join(tmpdir(), 'jarvis-resp-')), 'data')))).store },
  ...(pgSkip ? [] : [{ name: 'postgres', open: async () => (await SqlConversationStore.open(postgresDialect(await postgres!.newDatabase()))).store }]),
];

beforeAll(async () => {
  if (!pgSkip) postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

function row(id: string, over: Partial<NewStoredResponse> = {}): NewStoredResponse {
  const now = Date.now();
  return {
    id,
    owner: 'alice',
    status: 'queued',
    background: true,
    streamId: `s-${id}`,
    sessionId: id,
    fence: 10n,
    instance: null,
    previousResponseId: null,
    request: { model: 'm', instructions: 'be brief' },
    input: [
      { id: 'msg_1', type: 'message', role: 'user', content: 'one' },
      { id: 'msg_2', type: 'message', role: 'assistant', content: 'two' },
      { id: 'msg_3', type: 'message', role: 'user', content: 'three' },
    ],
    createdAt: now,
    expiresAt: now + 60_000,
    ...over,
  };
}

describe.each(DATABASES)('ResponseStore: $name', (db) => {
  let store: ConversationStore;
  beforeAll(async () => {
    store = await db.open();
  });
  afterAll(async () => {
    await store.close();
  });

  it('stores, ends once, fences, scopes to the owner, deletes', async () => {
    const responses = store.responses;
    await responses.create(row('resp_a'));
    expect(await responses.get('bob', 'resp_a')).toBeUndefined();
    const got = await responses.get('alice', 'resp_a');
    expect(got).toMatchObject({ id: 'resp_a', status: 'queued', background: true, fence: 10n, request: { instructions: 'be brief' }, response: null });
    expect(await responses.markInProgress('resp_a', 9n)).toBe(false); // an older writer
    expect(await responses.markInProgress('resp_a', 10n)).toBe(true);
    expect(await responses.markInProgress('resp_a', 10n)).toBe(false);
    expect(await responses.finish('resp_a', 10n, { status: 'completed', response: { id: 'resp_a', status: 'completed' } })).toBe(true);
    expect(await responses.finish('resp_a', 11n, { status: 'failed', response: { id: 'resp_a', status: 'failed' } })).toBe(false);
    expect(await responses.get('alice', 'resp_a')).toMatchObject({ status: 'completed', response: { status: 'completed' } });
    expect(await responses.delete('bob', 'resp_a')).toBe(false);
    expect(await responses.delete('alice', 'resp_a')).toBe(true);
    expect(await responses.get('alice', 'resp_a')).toBeUndefined();
  });

  it('pages input items both ways, and counts the bytes toward the key quota', async () => {
    const responses = store.responses;
    const before = await store.storageUsed('carol');
    await responses.create(row('resp_b', { owner: 'carol' }));
    const after = await store.storageUsed('carol');
    expect(after - before).toBeGreaterThan(ROW_BYTES);
    const asc = await responses.inputItems('carol', 'resp_b', { order: 'asc', limit: 2 });
    expect(asc?.items.map((i) => i.id)).toEqual(['msg_1', 'msg_2']);
    expect(asc?.hasMore).toBe(true);
    const next = await responses.inputItems('carol', 'resp_b', { order: 'asc', after: 'msg_2', limit: 2 });
    expect(next).toEqual({ items: [expect.objectContaining({ id: 'msg_3' })], hasMore: false });
    const desc = await responses.inputItems('carol', 'resp_b', { order: 'desc', limit: 5 });
    expect(desc?.items.map((i) => i.id)).toEqual(['msg_3', 'msg_2', 'msg_1']);
    expect(await responses.inputItems('dave', 'resp_b', { order: 'asc', limit: 5 })).toBeUndefined();
    await responses.delete('carol', 'resp_b');
    expect(await store.storageUsed('carol')).toBe(before);
  });

  it('hides expired responses at once and purges them', async () => {
    const responses = store.responses;
    await responses.create(row('resp_old', { expiresAt: Date.now() - 1 }));
    expect(await responses.get('alice', 'resp_old')).toBeUndefined();
    expect(await responses.purgeExpired(Date.now(), 100)).toBeGreaterThanOrEqual(1);
    expect(await responses.purgeExpired(Date.now(), 100)).toBe(0);
  });
});
