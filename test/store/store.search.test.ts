import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, Migrator } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresDialect, sqliteDialect, type OpenedDialect } from '../../src/store/dialects.js';
import { migrations } from '../../src/store/migrations.js';
import { snippetAround } from '../../src/store/snippet.js';
import { SqlConversationStore } from '../../src/store/sqlStore.js';
import type { ConversationStore } from '../../src/store/types.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/services/postgres.js';
import { seeded } from '../helpers/scenarios/seeded.js';

// The store's search (GET /v1/conversations?q=) through its index (SQLite FTS5
// trigram, Postgres pg_trgm), on SQLite and on a real Postgres: what is written,
// edited, settled and deleted is found (or not) at once, an older store's messages
// are indexed by the migration, and a query's characters are text, never syntax.

let postgres: TestPostgres | undefined;
const pgSkip = postgresUnavailable();
if (pgSkip) console.warn(pgSkip);

interface Db {
  name: string;
  /** A new, empty database: how to open (again) a dialect on it. */
  fresh(): Promise<() => OpenedDialect>;
}
const DATABASES: Db[] = [
  { name: 'sqlite', fresh: async () => { const dir = join(mkdtempSync(join(tmpdir(), 'jarvis-search-')), 'data'); return () => sqliteDialect(dir); } },
  ...(pgSkip ? [] : [{ name: 'postgres', fresh: async () => { const url = await postgres!.newDatabase(); return () => postgresDialect(url); } }]),
];

beforeAll(async () => {
  if (!pgSkip) postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

const slot = (streamId: string) => ({ streamId, model: 'm', fence: 100n });

describe.each(DATABASES)('conversation search: $name', (db) => {
  let store: ConversationStore;
  let open: () => OpenedDialect;
  beforeAll(async () => {
    open = await db.fresh();
    ({ store } = await SqlConversationStore.open(open()));
  });
  afterAll(async () => {
    await store.close();
  });

  const found = async (owner: string, q: string) => (await store.listConversations(owner, { limit: 50, q })).items.map((c) => c.id);

  it('finds what is written, edited and settled at once, and nothing once deleted', async () => {
    const owner = 'writer';
    const a = await store.createConversation(owner, { messages: [{ role: 'user', content: 'imported about a Capybara' }, { role: 'assistant', content: 'capybaras swim', state: 'done' }] });
    const b = await store.createConversation(owner, { title: 'animals' });
    expect(await found(owner, 'CAPYBARA')).toEqual([a.id]);

    const t = await store.startTurn(owner, b.id, { kind: 'send', content: 'tell me about the axolotl' }, slot('s-axo'));
    expect(await found(owner, 'axolotl')).toEqual([b.id]);
    // A streaming answer's text is found as it grows, and once it has settled.
    await store.updateAnswer(t.assistant.id, 100n, { content: 'an amphibian', seq: 0, cursor: '0', state: 'streaming' });
    expect(await found(owner, 'amphib')).toEqual([b.id]);
    await store.updateAnswer(t.assistant.id, 100n, { content: ' from Mexico', seq: 1, cursor: '1', state: 'streaming', appendAfter: '0' });
    expect(await found(owner, 'amphibian from mex')).toEqual([b.id]);
    await store.updateAnswer(t.assistant.id, 100n, { content: ' City', seq: 2, cursor: '2', state: 'done', appendAfter: '1' });
    const settled = await store.listConversations(owner, { limit: 50, q: 'mexico city' });
    expect(settled.items.map((c) => c.id)).toEqual([b.id]);
    expect(settled.items[0]!.match).toMatchObject({ messageId: t.assistant.id, role: 'assistant', snippet: 'an amphibian from Mexico City', highlight: [18, 29] });

    // An edit adds a version: its words are found at once, and the old version's still are (it stays in the conversation).
    await store.startTurn(owner, b.id, { kind: 'edit', messageId: t.user.id, content: 'tell me about the quetzal' }, slot('s-quetzal'));
    expect(await found(owner, 'quetzal')).toEqual([b.id]);
    expect(await found(owner, 'axolotl')).toEqual([b.id]);
    // Another owner's text is never found.
    expect(await found('someone-else', 'quetzal')).toEqual([]);

    expect(await store.deleteConversation(owner, a.id)).toBe(true);
    expect(await found(owner, 'capybara')).toEqual([]);
    expect(await store.deleteConversation(owner, b.id)).toBe(true);
    expect(await found(owner, 'quetzal')).toEqual([]);
  });

  it('takes every character of a query as text: quotes, wildcards and FTS operators', async () => {
    const owner = 'syntax';
    const text = 'say "hi" to 100%_sure a*b and (x OR y) NEAR(p q) col:umn ^start \\slash AND end';
    const c = await store.createConversation(owner, { messages: [{ role: 'user', content: text }] });
    await store.createConversation(owner, { messages: [{ role: 'user', content: 'nothing special here, 100 percent' }] });
    for (const q of ['"hi"', '"', '""hi', '%_sure', '100%', '_', 'a*b', '*', '(x OR y)', 'OR', 'NEAR(p q)', 'col:umn', '^start', '\\slash', 'AND end', 'D e', "'"]) {
      const expected = text.toLowerCase().includes(q.toLowerCase()) ? [c.id] : [];
      expect({ q, ids: await found(owner, q) }).toEqual({ q, ids: expected });
    }
    // Operators are not applied: neither "x AND y" nor a prefix nor NEAR() matches what the query language would.
    for (const q of ['say AND end', 'say*', 'NEAR(say end)', 'sa%e', 'a_b', '"say" "end"', 'hi" OR "nothing']) expect({ q, ids: await found(owner, q) }).toEqual({ q, ids: [] });
  });

  it('finds exactly the texts that contain the query, for queries made of query-language characters', async () => {
    const owner = 'fuzz';
    // Seeded: the same strings every run.
    const random = seeded(7);
    const alphabet = ['a', 'B', ' ', '"', '%', '_', '*', '(', ')', '^', ':', '-', '+', '\\', "'", 'NEAR', 'OR', 'AND', 'NOT', '.'];
    const junk = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]!).join('');
    const text = junk(400);
    const c = await store.createConversation(owner, { title: 'fuzz', messages: [{ role: 'user', content: text }] });
    const queries = [
      ...Array.from({ length: 40 }, () => {
        const from = Math.floor(random() * (text.length - 12));
        return text.slice(from, from + 1 + Math.floor(random() * 12));
      }),
      ...Array.from({ length: 40 }, () => junk(1 + Math.floor(random() * 4))),
    ];
    for (const q of queries) {
      const expected = text.toLowerCase().includes(q.toLowerCase()) ? [c.id] : [];
      expect({ q, ids: await found(owner, q) }).toEqual({ q, ids: expected });
    }
  });

  it('cuts the snippet of a match deep in a long message as from its whole text', async () => {
    const owner = 'long';
    const text = `${'lorem ipsum '.repeat(20_000)}the Narwhal tusk ${'dolor sit '.repeat(20_000)}`;
    const c = await store.createConversation(owner, { messages: [{ role: 'user', content: 'hello' }, { role: 'assistant', content: text }] });
    const page = await store.listConversations(owner, { limit: 50, q: 'narwhal' });
    expect(page.items.map((i) => i.id)).toEqual([c.id]);
    expect(page.items[0]!.match).toEqual({ messageId: expect.stringMatching(/^msg_/), role: 'assistant', ...snippetAround(text, 'narwhal') });
    expect(page.items[0]!.match!.snippet).toMatch(/^….*Narwhal tusk.*…$/);
  });

  it('indexes the messages an older version stored, when the store is opened by this one', async () => {
    const owner = 'older';
    const c = await store.createConversation(owner, { messages: [{ role: 'user', content: 'an okapi, before the index' }] });
    // The database as the version before the index left it. (SQLite's file is held by one connection: the store lets go of it first.)
    await store.close();
    const raw = new Kysely<any>({ dialect: open().dialect });
    const down = await new Migrator({ db: raw, provider: { getMigrations: async () => migrations } }).migrateTo('0002_message_instance');
    await raw.destroy();
    expect(down.error).toBeUndefined();
    const reopened = await SqlConversationStore.open(open());
    store = reopened.store;
    expect(reopened.migrated).toContain('0004_message_search');
    expect(await found(owner, 'okapi, before')).toEqual([c.id]);
  });
});
