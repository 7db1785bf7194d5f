import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, Migrator, type MigrationProvider } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresDialect, sqliteDialect, type OpenedDialect } from '../../src/store/dialects.js';
import { migrations } from '../../src/store/migrations.js';
import { ROW_BYTES as R } from '../../src/store/quota.js';
import { SqlConversationStore } from '../../src/store/sqlStore.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/services/postgres.js';

// The message tree on disk (docs/conversations.md "Branches"): a database written before
// branches (the previous release's schema, 0005) opens with its conversations intact, each
// a single branch, and goes on from there; attachments are stored and counted. SQLite and Postgres.

let postgres: TestPostgres | undefined;
const pgSkip = postgresUnavailable();
beforeAll(async () => {
  if (!pgSkip) postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

const DATABASES: Array<{ name: string; open(): Promise<() => OpenedDialect> }> = [
  { name: 'sqlite', open: async () => { const dir = join(mkdtempSync(join(tmpdir(), 'jarvis-tree-')), 'data'); return () => sqliteDialect(dir); } },
  ...(pgSkip ? [] : [{ name: 'postgres', open: async () => { const url = await postgres!.newDatabase(); return () => postgresDialect(url); } }]),
];

/** Only the migrations up to `last`: the schema of an earlier release. */
function upTo(last: string): MigrationProvider {
  const names = Object.keys(migrations);
  return { getMigrations: async () => Object.fromEntries(names.slice(0, names.indexOf(last) + 1).map((n) => [n, migrations[n]!])) };
}

describe.each(DATABASES)('the message tree: $name', (db) => {
  it('migrates a linear store in place: every conversation intact, one branch each, and it goes on from there', async () => {
    const dialect = await db.open();
    const old = new Kysely<any>({ dialect: dialect().dialect });
    try {
      const result = await new Migrator({ db: old, provider: upTo('0005_responses') }).migrateToLatest();
      expect(result.error).toBeUndefined();
      // What the previous release wrote: conversations, and messages by position.
      for (const [conv, texts] of [['conv_a', ['hello there', 'hi!', 'tell me more', 'more.']], ['conv_b', ['only a prompt']]] as const) {
        await old.insertInto('conversations').values({ id: conv, owner: 'o', title: texts[0], system: null, model: null, params: '{}', created_at: 1, updated_at: 2 }).execute();
        for (const [position, content] of texts.entries()) {
          const assistant = position % 2 === 1;
          await old
            .insertInto('messages')
            .values({ id: `${conv}_m${position}`, conversation_id: conv, position, role: assistant ? 'assistant' : 'user', content, state: assistant ? 'done' : null, created_at: 1 + position, updated_at: 1 + position })
            .execute();
        }
      }
    } finally {
      await old.destroy();
    }

    const { store, migrated } = await SqlConversationStore.open(dialect());
    try {
      // 0006 and every migration after it (later releases' tables).
      expect(migrated).toEqual(Object.keys(migrations).slice(Object.keys(migrations).indexOf('0006_message_tree')));
      const a = (await store.getConversation('o', 'conv_a'))!;
      expect(a.messages.map((m) => m.content)).toEqual(['hello there', 'hi!', 'tell me more', 'more.']);
      expect(a.messages.map((m) => m.parentId)).toEqual([null, 'conv_a_m0', 'conv_a_m1', 'conv_a_m2']);
      expect(a.messages.every((m) => m.siblingIds?.length === 1)).toBe(true);
      expect(a.currentId).toBe('conv_a_m3');
      expect((await store.getConversation('o', 'conv_b'))!.currentId).toBe('conv_b_m0');
      const before = await store.storageUsed('o');

      // It goes on: a prompt continues the branch, an edit of the first prompt is a version (and the title follows).
      const next = await store.startTurn('o', 'conv_a', { kind: 'send', content: 'and?' }, { streamId: 's1', model: 'm', fence: 1n });
      expect(next.history.map((m) => m.content)).toEqual(['hello there', 'hi!', 'tell me more', 'more.', 'and?']);
      await store.updateAnswer(next.assistant.id, 1n, { content: '', seq: -1, state: 'stopped' });
      const edit = await store.startTurn('o', 'conv_a', { kind: 'edit', messageId: 'conv_a_m0', content: 'hello again' }, { streamId: 's2', model: 'm', fence: 2n });
      expect(edit.conversation.title).toBe('hello again');
      expect((await store.getConversation('o', 'conv_a'))!.messages[0]!.siblingIds).toEqual(['conv_a_m0', edit.user.id]);
      expect(await store.storageUsed('o')).toBe(before + R + 4 + R + R + 11 + R);
    } finally {
      await store.close();
    }
  });

  it('stores attachments with the prompt; an edit keeps them unless it brings its own', async () => {
    const { store } = await SqlConversationStore.open((await db.open())());
    try {
      const c = await store.createConversation('', {});
      const image = { type: 'image' as const, name: 'dot.png', mime: 'image/png', size: 68, data_url: 'data:image/png;base64,iVBORw0KGgo=' };
      const file = { type: 'file' as const, name: 'notes.md', mime: 'text/markdown', size: 5, text: '# Hi\n' };
      const sent = await store.startTurn('', c.id, { kind: 'send', content: 'look', attachments: [image, file] }, { streamId: 'a1', model: 'm', fence: 1n });
      expect(sent.user.attachments).toEqual([image, file]);
      await store.updateAnswer(sent.assistant.id, 1n, { content: 'ok', seq: 0, state: 'done' });
      const kept = await store.startTurn('', c.id, { kind: 'edit', messageId: sent.user.id, content: 'look again' }, { streamId: 'a2', model: 'm', fence: 2n });
      expect(kept.user.attachments).toEqual([image, file]);
      await store.updateAnswer(kept.assistant.id, 2n, { content: 'ok', seq: 0, state: 'done' });
      const dropped = await store.startTurn('', c.id, { kind: 'edit', messageId: sent.user.id, content: 'no files', attachments: [] }, { streamId: 'a3', model: 'm', fence: 3n });
      expect(dropped.user.attachments).toBeNull();
      const tree = (await store.conversationTree('', c.id))!;
      expect(tree.messages.filter((m) => m.role === 'user').map((m) => m.attachments?.length ?? 0)).toEqual([2, 2, 0]);
    } finally {
      await store.close();
    }
  });
});
