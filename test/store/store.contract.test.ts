import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kysely } from 'kysely';
import { postgresDialect, sqliteDialect } from '../../src/store/dialects.js';
import { SqlConversationStore, type StoreOptions } from '../../src/store/sqlStore.js';
import { ownerUsageMigration, ROW_BYTES as R } from '../../src/store/quota.js';
import { StoreError, type ConversationStore } from '../../src/store/types.js';
import { startTestJarvis } from '../helpers/jarvisServer.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/services/postgres.js';
import { newConversation, readStream, sendMessage, settledConversation } from '../helpers/streamReader.js';

// The ConversationStore contract, one suite run against every database: SQLite
// always, Postgres when this machine has it (Debian's postgresql, started here).

interface Db {
  name: string;
  /** A fresh, empty database: its store, and the env that points Jarvis at it. */
  fresh(): Promise<{ store: ConversationStore; env: Record<string, string>; reopen(options?: StoreOptions): Promise<{ store: ConversationStore; migrated: string[] }> }>;
}

let postgres: TestPostgres | undefined;
const pgSkip = postgresUnavailable();
if (pgSkip) console.warn(pgSkip);

const sqlite: Db = {
  name: 'sqlite',
  async fresh() {
    const dir = join(mkdtempSync(join(tmpdir(), 'jarvis-store-')), 'data');
    const { store } = await SqlConversationStore.open(sqliteDialect(dir));
    return { store, env: { JARVIS_DATA_DIR: dir }, reopen: (options) => SqlConversationStore.open(sqliteDialect(dir), options) };
  },
};
const pgDb: Db = {
  name: 'postgres',
  async fresh() {
    const url = await postgres!.newDatabase();
    const { store } = await SqlConversationStore.open(postgresDialect(url));
    return { store, env: { DATABASE_URL: url }, reopen: (options) => SqlConversationStore.open(postgresDialect(url), options) };
  },
};
const DATABASES = pgSkip ? [sqlite] : [sqlite, pgDb];

beforeAll(async () => {
  if (!pgSkip) postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

const slot = (streamId: string, fence = 100n) => ({ streamId, model: 'm', fence });

describe.each(DATABASES)('ConversationStore contract: $name', (db) => {
  let store: ConversationStore;
  let reopen: (options?: StoreOptions) => Promise<{ store: ConversationStore; migrated: string[] }>;
  let env: Record<string, string>;
  beforeAll(async () => {
    ({ store, reopen, env } = await db.fresh());
  });
  afterAll(async () => {
    await store.close();
  });

  it('creates, reads, updates and deletes, each owner seeing only its own', async () => {
    const a = await store.createConversation('alice', { title: 'A', system: 'sys', model: 'm1', params: { temperature: 0.5 } });
    expect(a).toMatchObject({ owner: 'alice', title: 'A', system: 'sys', model: 'm1', params: { temperature: 0.5 } });
    expect(await store.getConversation('bob', a.id)).toBeUndefined();
    expect(await store.updateConversation('bob', a.id, { title: 'x' })).toBeUndefined();
    expect(await store.deleteConversation('bob', a.id)).toBe(false);
    expect((await store.listConversations('bob', { limit: 10 })).items).toEqual([]);

    const updated = await store.updateConversation('alice', a.id, { title: 'B', system: null, params: { max_tokens: 9 } });
    expect(updated).toMatchObject({ title: 'B', system: null, model: 'm1', params: { temperature: 0.5, max_tokens: 9 } });
    expect(updated!.updatedAt).toBeGreaterThanOrEqual(a.updatedAt);
    const cleared = await store.updateConversation('alice', a.id, { params: { temperature: null as unknown as number } });
    expect(cleared!.params).toEqual({ max_tokens: 9 });

    await store.startTurn('alice', a.id, { kind: 'send', content: 'hi' }, slot('s-crud'));
    expect(await store.deleteConversation('alice', a.id)).toBe(true);
    expect(await store.getConversation('alice', a.id)).toBeUndefined();
    expect(await store.deleteConversation('alice', a.id)).toBe(false);
  });

  it('lists newest first in pages, and searches titles and message text', async () => {
    const owner = `lister-${db.name}`;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push((await store.createConversation(owner, { title: `Title ${i}` })).id);
      await new Promise((r) => setTimeout(r, 2));
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await store.listConversations(owner, { limit: 3, cursor });
      seen.push(...page.items.map((c) => c.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual([...ids].reverse());
    await store.startTurn(owner, ids[2]!, { kind: 'send', content: 'The Ünïcode QUOKKA 🦘 lives here' }, slot('s-search'));
    const quokka = await store.listConversations(owner, { limit: 10, q: 'quokka 🦘' });
    expect(quokka.items.map((c) => c.id)).toEqual([ids[2]]);
    // Where it matched: the message, the text around it, the match's offsets in that text.
    expect(quokka.items[0]!.match).toEqual({ messageId: expect.stringMatching(/^msg_/), role: 'user', snippet: 'The Ünïcode QUOKKA 🦘 lives here', highlight: [12, 21] });
    const titled = await store.listConversations(owner, { limit: 10, q: 'title 5' });
    expect(titled.items.map((c) => c.id)).toEqual([ids[5]]);
    expect(titled.items[0]!.match).toEqual({ messageId: null, role: null, snippet: 'Title 5', highlight: [0, 7] });
    expect((await store.listConversations(owner, { limit: 10 })).items[0]!.match).toBeUndefined();
    expect((await store.listConversations(owner, { limit: 10, q: '%' })).items).toEqual([]);
    expect((await store.listConversations(owner, { limit: 1 })).items[0]!.id).toBe(ids[2]);
    await expect(store.listConversations(owner, { limit: 1, cursor: 'nonsense' })).rejects.toMatchObject({ code: 'invalid' });
  });

  it('starts turns: send continues the branch; regenerate and edit add versions and make them current', async () => {
    const c = await store.createConversation('', {});
    const t1 = await store.startTurn('', c.id, { kind: 'send', content: 'one' }, slot('s1'));
    expect(t1.user).toMatchObject({ role: 'user', content: 'one', position: 0 });
    expect(t1.assistant).toMatchObject({ role: 'assistant', content: '', position: 1, state: 'streaming', streamId: 's1', seq: -1, model: 'm' });
    expect(t1.history.map((m) => m.content)).toEqual(['one']);
    expect(t1.conversation.title).toBe('one');
    expect(await store.updateAnswer(t1.assistant.id, 100n, { content: 'uno', seq: 0, state: 'done', usage: { prompt_tokens: 1, completion_tokens: 1 }, timings: { duration_ms: 5 } })).toBe(true);

    const t2 = await store.startTurn('', c.id, { kind: 'send', content: 'two' }, slot('s2'));
    expect(t2.history.map((m) => m.content)).toEqual(['one', 'uno', 'two']);
    const regen = await store.startTurn('', c.id, { kind: 'regenerate' }, slot('s3'));
    expect(regen.user.id).toBe(t2.user.id);
    // Positions are the order messages were made in, every branch's.
    expect(regen.assistant.position).toBe(4);
    expect(regen.assistant.parentId).toBe(t2.user.id);
    let full = await store.getConversation('', c.id);
    expect(full!.messages.map((m) => m.streamId ?? m.content)).toEqual(['one', 's1', 'two', 's3']);
    expect(full!.messages[3]!.siblingIds).toEqual([t2.assistant.id, regen.assistant.id]);
    expect(full!.messages[1]).toMatchObject({ usage: { prompt_tokens: 1, completion_tokens: 1 }, timings: { duration_ms: 5 }, state: 'done' });

    const edit = await store.startTurn('', c.id, { kind: 'edit', messageId: t1.user.id, content: 'eins' }, slot('s4'));
    expect(edit.history.map((m) => m.content)).toEqual(['eins']);
    expect(edit.user.id).not.toBe(t1.user.id);
    full = await store.getConversation('', c.id);
    expect(full!.messages.map((m) => m.streamId ?? m.content)).toEqual(['eins', 's4']);
    expect(full!.messages[0]!.siblingIds).toEqual([t1.user.id, edit.user.id]);
    // Nothing was deleted: the whole tree still holds every version.
    expect((await store.conversationTree('', c.id))!.messages).toHaveLength(7);

    await expect(store.startTurn('', c.id, { kind: 'edit', messageId: edit.assistant.id, content: 'x' }, slot('s5'))).rejects.toMatchObject({ code: 'conflict' });
    await expect(store.startTurn('', c.id, { kind: 'edit', messageId: 'msg_nope', content: 'x' }, slot('s5'))).rejects.toMatchObject({ code: 'not_found' });
    await expect(store.startTurn('', 'conv_nope', { kind: 'send', content: 'x' }, slot('s5'))).rejects.toBeInstanceOf(StoreError);
    const empty = await store.createConversation('', {});
    await expect(store.startTurn('', empty.id, { kind: 'regenerate' }, slot('s6'))).rejects.toMatchObject({ code: 'conflict' });
  });

  it('fences answer writes, writes an ended answer never again, and ignores deleted ones', async () => {
    const c = await store.createConversation('', {});
    const t = await store.startTurn('', c.id, { kind: 'send', content: 'q' }, slot('f1', 500n));
    expect(await store.updateAnswer(t.assistant.id, 499n, { content: 'stale', seq: 0, state: 'streaming' })).toBe(false);
    expect(await store.updateAnswer(t.assistant.id, 500n, { content: 'ab', seq: 1, state: 'streaming' })).toBe(true);
    expect(await store.updateAnswer(t.assistant.id, 500n, { content: 'abc', seq: 2, state: 'stopped' })).toBe(true);
    expect(await store.updateAnswer(t.assistant.id, 500n, { content: 'abcd', seq: 3, state: 'done' })).toBe(false);
    const m = (await store.getConversation('', c.id))!.messages[1]!;
    expect(m).toMatchObject({ content: 'abc', seq: 2, state: 'stopped' });
    expect(await store.updateAnswer('msg_gone', 500n, { content: 'x', seq: 0, state: 'done' })).toBe(false);
  });

  it('appends an answer after where it is stored, and only there; reasoning too; fenced and ended alike', async () => {
    const c = await store.createConversation('', {});
    const t = await store.startTurn('', c.id, { kind: 'send', content: 'q' }, slot('a1', 700n));
    const id = t.assistant.id;
    const read = async () => (await store.getConversation('', c.id))!.messages[1]!;
    expect(await store.updateAnswer(id, 700n, { content: 'Ol', seq: 1, cursor: '1', state: 'streaming' })).toBe(true);
    expect(await store.updateAnswer(id, 700n, { content: 'á, ', reasoning: 'think', seq: 3, cursor: '3', state: 'streaming', appendAfter: '1' })).toBe(true);
    // A reader during the stream sees the whole text so far, as if it had been written whole.
    expect(await read()).toMatchObject({ content: 'Olá, ', reasoning: 'think', seq: 3, cursor: '3', state: 'streaming' });
    // Not where the stored answer ends (an append repeated, or out of order): nothing is written.
    expect(await store.updateAnswer(id, 700n, { content: 'á, ', seq: 3, cursor: '3', state: 'streaming', appendAfter: '1' })).toBe(false);
    expect(await store.updateAnswer(id, 700n, { content: 'x', seq: 9, cursor: '9', state: 'streaming', appendAfter: '8' })).toBe(false);
    // An older stream's append is fenced out, however its cursor matches.
    expect(await store.updateAnswer(id, 699n, { content: 'stale', seq: 4, cursor: '4', state: 'streaming', appendAfter: '3' })).toBe(false);
    expect(await store.updateAnswer(id, 700n, { content: 'mundo', reasoning: 'ing', seq: 4, cursor: '4:1', state: 'done', appendAfter: '3' })).toBe(true);
    expect(await read()).toMatchObject({ content: 'Olá, mundo', reasoning: 'thinking', seq: 4, cursor: '4:1', state: 'done' });
    // Ended: never written again, appended or not.
    expect(await store.updateAnswer(id, 700n, { content: '!', seq: 5, cursor: '5', state: 'done', appendAfter: '4:1' })).toBe(false);
    expect((await read()).content).toBe('Olá, mundo');

    // Appends that were flushed survive a crash; the start-up sweep keeps them.
    const c2 = await store.createConversation('', {});
    const t2 = await store.startTurn('', c2.id, { kind: 'send', content: 'q' }, slot('a2'));
    await store.updateAnswer(t2.assistant.id, 100n, { content: 'one ', seq: 0, cursor: '0', state: 'streaming' });
    await store.updateAnswer(t2.assistant.id, 100n, { content: 'two', seq: 1, cursor: '1', state: 'streaming', appendAfter: '0' });
    expect(await store.interruptStreaming()).toBeGreaterThanOrEqual(1);
    expect((await store.getConversation('', c2.id))!.messages[1]).toMatchObject({ state: 'interrupted', content: 'one two', seq: 1 });
  });

  it('writes many streaming answers in one flush, each under its own fence, cursor and state', async () => {
    // An answer each, in a conversation each (a new turn would end the one before).
    const where = new Map<string, string>();
    for (let i = 0; i < 5; i++) {
      const c = await store.createConversation('', {});
      where.set((await store.startTurn('', c.id, { kind: 'send', content: `q${i}` }, slot(`f${i}`, 800n))).assistant.id, c.id);
    }
    const [a, b, e, f, g] = [...where.keys()] as [string, string, string, string, string];
    const msg = async (id: string) => (await store.getConversation('', where.get(id)!))!.messages.find((m) => m.id === id)!;
    // First writes: whole text (no appendAfter); one with reasoning and tool calls.
    const calls = [{ id: 'call_1', name: 'look', arguments: '{}' }];
    expect(
      await store.flushAnswers([
        { messageId: a, fence: 800n, content: 'Ol', seq: 1, cursor: '1' },
        { messageId: b, fence: 800n, content: 'be', reasoning: 'hm', seq: 0, cursor: '0:1', toolCalls: calls },
        { messageId: 'msg_gone', fence: 800n, content: 'x', seq: 0, cursor: '0' },
        { messageId: e, fence: 799n, content: 'stale', seq: 0, cursor: '0' },
      ]),
    ).toEqual([true, true, false, false]);
    expect(await msg(a)).toMatchObject({ content: 'Ol', seq: 1, cursor: '1', state: 'streaming' });
    expect(await msg(b)).toMatchObject({ content: 'be', reasoning: 'hm', seq: 0, cursor: '0:1', toolCalls: calls });
    expect((await msg(e)).content).toBe('');
    await store.updateAnswer(f, 800n, { content: 'done', seq: 0, state: 'done' });
    // Appends after where each is stored; one at the wrong cursor, one ended: those two are not written.
    expect(
      await store.flushAnswers([
        { messageId: a, fence: 800n, content: 'á, mundo', seq: 3, cursor: '3', appendAfter: '1' },
        { messageId: b, fence: 800n, content: 'e', reasoning: 'm', seq: 1, cursor: '1', appendAfter: '0:1' },
        { messageId: e, fence: 800n, content: 'x', seq: 1, cursor: '1', appendAfter: '0' },
        { messageId: f, fence: 800n, content: '!', seq: 1, cursor: '1', appendAfter: '0' },
        { messageId: g, fence: 800n, content: 'whole', seq: 0, cursor: '0' },
      ]),
    ).toEqual([true, true, false, false, true]);
    expect(await msg(a)).toMatchObject({ content: 'Olá, mundo', seq: 3, cursor: '3', state: 'streaming' });
    expect(await msg(b)).toMatchObject({ content: 'bee', reasoning: 'hmm', seq: 1, cursor: '1' });
    expect(await msg(f)).toMatchObject({ content: 'done', state: 'done' });
    expect(await msg(g)).toMatchObject({ content: 'whole', seq: 0 });
    // An append without new reasoning keeps what is stored.
    expect(await store.flushAnswers([{ messageId: b, fence: 800n, content: 's', seq: 2, cursor: '2', appendAfter: '1' }])).toEqual([true]);
    expect(await msg(b)).toMatchObject({ content: 'bees', reasoning: 'hmm' });
    expect(await store.flushAnswers([])).toEqual([]);
  });

  it('flushes more answers than one statement holds', async () => {
    const ids: string[] = [];
    let last = '';
    for (let i = 0; i < 450; i++) {
      last = (await store.createConversation('', {})).id;
      ids.push((await store.startTurn('', last, { kind: 'send', content: `q${i}` }, slot(`many${i}`, 900n))).assistant.id);
    }
    const written = await store.flushAnswers(ids.map((id, i) => ({ messageId: id, fence: i === 333 ? 1n : 900n, content: `answer ${i}`, seq: 0, cursor: '0' })));
    expect(written.filter(Boolean)).toHaveLength(449);
    expect(written[333]).toBe(false);
    expect((await store.getConversation('', last))!.messages[1]).toMatchObject({ content: 'answer 449', seq: 0, state: 'streaming' });
  });

  it("counts each owner's stored bytes as it writes: conversations, imports, prompts, answers, edits, deletes", async () => {
    const owner = `quota-${db.name}`;
    const other = `quota-other-${db.name}`;
    expect(await store.storageUsed(owner)).toBe(0);
    // Bytes, not characters: 'héllo' is 6.
    const c = await store.createConversation(owner, { title: 'héllo', system: 'be brief' });
    let expected = R + 6 + 8;
    expect(await store.storageUsed(owner)).toBe(expected);
    await store.updateConversation(owner, c.id, { title: 'hi', system: null, model: 'm2' });
    expected += 2 - 6 - 8;
    expect(await store.storageUsed(owner)).toBe(expected);

    // A prompt: the user message and an empty answer; the answer grows as it is written, appended or whole.
    const t = await store.startTurn(owner, c.id, { kind: 'send', content: 'question?' }, slot('q1', 300n));
    expected += R + 9 + R;
    expect(await store.storageUsed(owner)).toBe(expected);
    await store.updateAnswer(t.assistant.id, 300n, { content: 'abc', seq: 0, cursor: '0', state: 'streaming' });
    await store.updateAnswer(t.assistant.id, 300n, { content: 'de', reasoning: 'r', seq: 1, cursor: '1', state: 'streaming', appendAfter: '0' });
    const calls = [{ id: 't1', name: 'lookup', arguments: '{"q":"x"}' }];
    await store.updateAnswer(t.assistant.id, 300n, { content: 'f', seq: 2, cursor: '2:1', toolCalls: calls, state: 'done', appendAfter: '1' });
    expected += 6 + 1 + Buffer.byteLength(JSON.stringify(calls));
    expect(await store.storageUsed(owner)).toBe(expected);
    expect(await store.storageUsed(owner)).toBe(expected); // reading folds nothing twice

    // Edit: a new version of the prompt and a new empty answer; the old ones stay (they are versions).
    await store.startTurn(owner, c.id, { kind: 'edit', messageId: t.user.id, content: 'q?' }, slot('q2', 301n));
    expected += R + 2 + R;
    expect(await store.storageUsed(owner)).toBe(expected);
    // Files count as their stored JSON.
    const files = [{ type: 'file' as const, name: 'a.txt', mime: 'text/plain', size: 3, text: 'abc' }];
    await store.updateAnswer((await store.getConversation(owner, c.id))!.currentId!, 301n, { content: '', seq: -1, state: 'stopped' });
    await store.startTurn(owner, c.id, { kind: 'send', content: 'f', attachments: files }, slot('q3', 302n));
    expected += R + 1 + Buffer.byteLength(JSON.stringify(files)) + R;
    expect(await store.storageUsed(owner)).toBe(expected);

    // An import counts every message it brings; another owner's writes are not this one's.
    const imported = await store.createConversation(owner, { title: 't', messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: 'yy', reasoning: 'z' }] });
    await store.createConversation(other, { title: 'someone else' });
    expect(await store.storageUsed(owner)).toBe(expected + R + 1 + (R + 1) + (R + 2 + 1));
    expect(await store.storageUsed(other)).toBe(R + 12);

    // Deleting frees it all.
    expect(await store.deleteConversation(owner, imported.id)).toBe(true);
    expect(await store.storageUsed(owner)).toBe(expected);
    expect(await store.deleteConversation(owner, c.id)).toBe(true);
    expect(await store.storageUsed(owner)).toBe(0);
    expect(await store.storageUsed(other)).toBe(R + 12);
  });

  it('keeps the count right under concurrent answer flushes, quota checks and a delete', async () => {
    const owner = `quota-race-${db.name}`;
    const convs = await Promise.all([0, 1, 2, 3].map(() => store.createConversation(owner, { title: 't' })));
    const turns = await Promise.all(convs.map((c, i) => store.startTurn(owner, c.id, { kind: 'send', content: 'q' }, slot(`race-${db.name}-${i}`))));
    const flushes = async (messageId: string) => {
      for (let i = 0; i < 20; i++) {
        await store.updateAnswer(messageId, 100n, { content: 'xy', seq: i, cursor: String(i), state: 'streaming', ...(i > 0 ? { appendAfter: String(i - 1) } : {}) });
      }
    };
    await Promise.all([
      ...turns.map((t) => flushes(t.assistant.id)),
      ...Array.from({ length: 20 }, () => store.storageUsed(owner)),
      store.deleteConversation(owner, convs[0]!.id),
    ]);
    // Three conversations left, each: itself (title 't'), the prompt 'q', an answer of 20 × 'xy'.
    expect(await store.storageUsed(owner)).toBe(3 * (R + 1 + (R + 1) + (R + 40)));
  });

  it('counts what was stored before the quota existed (the migration backfills it) as the triggers do', async () => {
    const owner = `backfill-${db.name}`;
    const c = await store.createConversation(owner, { title: 'old', system: 'sys', messages: [{ role: 'user', content: 'ünïcode' }, { role: 'assistant', content: 'a', reasoning: 'r' }] });
    const t = await store.startTurn(owner, c.id, { kind: 'send', content: 'q' }, slot('bf1'));
    await store.updateAnswer(t.assistant.id, 100n, { content: 'answer', seq: 0, toolCalls: [{ id: 'c', name: 'n', arguments: '{}' }], state: 'done' });
    const counted = await store.storageUsed(owner);
    // The migration undone and run again over the same rows: its backfill must find the same figure.
    // (SQLite's file is held by one connection: the store lets go of it meanwhile.)
    await store.close();
    const k = new Kysely<any>({ dialect: (env.DATABASE_URL ? postgresDialect(env.DATABASE_URL) : sqliteDialect(env.JARVIS_DATA_DIR!)).dialect });
    try {
      await ownerUsageMigration.down!(k);
      await ownerUsageMigration.up(k);
    } finally {
      await k.destroy();
      ({ store } = await reopen());
    }
    expect(await store.storageUsed(owner)).toBe(counted);
    expect(counted).toBeGreaterThan(5 * R);
  });

  it('marks answers left streaming as interrupted (the start-up sweep)', async () => {
    const c = await store.createConversation('', {});
    const t = await store.startTurn('', c.id, { kind: 'send', content: 'q' }, slot('i1'));
    await store.updateAnswer(t.assistant.id, 100n, { content: 'part', seq: 0, state: 'streaming' });
    expect(await store.interruptStreaming()).toBeGreaterThanOrEqual(1);
    expect((await store.getConversation('', c.id))!.messages[1]).toMatchObject({ state: 'interrupted', content: 'part' });
    expect(await store.interruptStreaming()).toBe(0);
  });

  // SQLite is held by one process alone (locking_mode=EXCLUSIVE, sqliteOpen.ts): a cluster shares Postgres.
  it.skipIf(db.name === 'sqlite')('in a cluster, the sweep takes this instance\'s answers and those whose owner is gone, never a live instance\'s', async () => {
    const { store: i1 } = await reopen({ instance: 'i1' });
    const { store: i2 } = await reopen({ instance: 'i2' });
    try {
      await store.interruptStreaming();
      const c = await i1.createConversation('', {});
      const mine = await i1.startTurn('', c.id, { kind: 'send', content: 'q1' }, slot('s-mine'));
      const d = await i2.createConversation('', {});
      const live = await i2.startTurn('', d.id, { kind: 'send', content: 'q2' }, slot('s-live'));
      const e = await i2.createConversation('', {});
      await i2.startTurn('', e.id, { kind: 'send', content: 'q3' }, slot('s-dead'));
      const asked: Array<{ streamId: string | null; instance: string | null }> = [];
      const sweep = {
        instance: 'i1',
        ownerGone: async (answers: Array<{ streamId: string | null; instance: string | null }>) => {
          asked.push(...answers);
          return answers.map((a) => a.streamId === 's-dead');
        },
      };
      // A later sweep leaves this instance's own answers (they stream now).
      expect(await i1.interruptStreaming({ ...sweep, includeOwn: false })).toBe(1);
      expect(asked.map((a) => `${a.instance}:${a.streamId}`).sort()).toEqual(['i2:s-dead', 'i2:s-live']);
      const state = async (owner: ConversationStore, conv: string) => (await owner.getConversation('', conv))!.messages[1]!.state;
      expect([await state(i1, c.id), await state(i2, d.id), await state(i2, e.id)]).toEqual(['streaming', 'streaming', 'interrupted']);
      // At start-up its own are taken too; the live instance's answer still streams, and is stored when it ends.
      expect(await i1.interruptStreaming({ ...sweep, includeOwn: true })).toBe(1);
      expect(await state(i1, c.id)).toBe('interrupted');
      expect(await i2.updateAnswer(live.assistant.id, 100n, { content: 'all', seq: 0, state: 'done' })).toBe(true);
      expect(await i1.updateAnswer(mine.assistant.id, 100n, { content: 'late', seq: 0, state: 'done' })).toBe(false);
    } finally {
      await i1.close();
      await i2.close();
    }
  });

  it('gives concurrent prompts on one conversation distinct, gapless positions', async () => {
    const c = await store.createConversation('', {});
    await Promise.all(Array.from({ length: 12 }, (_, i) => store.startTurn('', c.id, { kind: 'send', content: `p${i}` }, slot(`c${i}`))));
    const positions = (await store.getConversation('', c.id))!.messages.map((m) => m.position);
    expect(positions).toEqual([...Array(24).keys()]);
  });

  it('migrates once: reopening runs nothing and keeps the data', async () => {
    const c = await store.createConversation('', { title: 'persisted' });
    // One process holds a SQLite file at a time: the first store lets it go.
    await store.close();
    const again = await reopen();
    store = again.store;
    expect(again.migrated).toEqual([]);
    expect((await again.store.getConversation('', c.id))?.title).toBe('persisted');
  });

  it('serves a Jarvis: a prompt is answered, stored and can be reattached', async () => {
    await store.close();
    const j = await startTestJarvis(env);
    try {
      j.fake!.plan = (p) => ({ tokens: Array.from({ length: 30 }, (_, i) => `${p}#${i} `), tokenMs: 2 });
      const id = await newConversation(j.url);
      const answer = sendMessage(j.url, id, { content: `on ${db.name}` });
      await answer.tokensReached(5);
      answer.abort();
      // Text and position read at the same moment: lines already buffered may still be parsed after the abort.
      const seen = { text: answer.text, seq: answer.lastSeq };
      const rest = readStream(j.url, answer.streamId!, seen.seq);
      await rest.finished;
      const conv = await settledConversation(j.url, id);
      expect(conv.messages[1]).toMatchObject({ state: 'done', content: seen.text + rest.text });
    } finally {
      await j.close();
    }
  });
});

describe.runIf(!pgSkip)('Postgres unavailable', () => {
  it('is a StoreError "unavailable" with the reason, not a hang', async () => {
    const err = await SqlConversationStore.open(postgresDialect('postgres://jarvis:secret@127.0.0.1:1/none')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'unavailable' });
    expect((err as Error).message).toContain('postgres://jarvis:***@127.0.0.1:1/none');
    expect((err as Error).message).not.toContain('secret');
  });
});
