import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteDialect } from '../../src/store/dialects.js';
import { SqlConversationStore } from '../../src/store/sqlStore.js';
import type { Worker } from 'node:worker_threads';
import type { ThreadSqliteDialect } from '../../src/store/sqliteWorker/driver.js';
import type { StoreError } from '../../src/store/types.js';

// docs/security.md "Searches and the store": SQLite's one connection lives on its
// own thread (src/store/sqliteWorker/), so no query, however long, holds the event
// loop that streams answers; searches take turns at it, bounded in waiting.

const freshDir = () => join(mkdtempSync(join(tmpdir(), 'jarvis-thread-')), 'data');

/** A search that reads every byte of the owner's two 2 MB answers still streaming (no index skips those), at each position. */
const SLOW_QUERY = `${'a'.repeat(499)}b`;

/** The largest gap between the ticks of a 10 ms timer while `run` runs, and how long it ran. */
async function loopWhile(run: () => Promise<unknown>): Promise<{ tookMs: number; maxGapMs: number }> {
  const ticks: number[] = [];
  const timer = setInterval(() => ticks.push(performance.now()), 10);
  const from = performance.now();
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  const to = performance.now();
  const all = [from, ...ticks, to];
  return { tookMs: to - from, maxGapMs: Math.max(...all.slice(1).map((t, i) => t - all[i]!)) };
}

describe('SQLite on its own thread', () => {
  it('runs a slow query without holding the event loop', async () => {
    const db = new Kysely<any>({ dialect: sqliteDialect(freshDir()).dialect });
    try {
      // About a second of SQLite's own work on a loaded 2-core machine (a third of that on a fast one).
      const count = sql<{ c: number }>`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${6_000_000}) select count(*) as c from n`;
      let rows: Array<{ c: number }> = [];
      const { tookMs, maxGapMs } = await loopWhile(async () => ({ rows } = await count.execute(db)));
      console.log(`query ${Math.round(tookMs)} ms; the event loop's largest gap meanwhile ${Math.round(maxGapMs)} ms`);
      // Rows as Kysely's own SQLite driver gives them: numbers, not bigints.
      expect(rows).toEqual([{ c: 6_000_000 }]);
      expect(tookMs).toBeGreaterThan(150);
      // On the event loop (before), the timer could not tick at all while the query ran: one gap as long as the query.
      expect(maxGapMs).toBeLessThan(tookMs / 2);
    } finally {
      await db.destroy();
    }
  });

  it("gives back the database's errors with their codes, and a write's effect", async () => {
    const db = new Kysely<any>({ dialect: sqliteDialect(freshDir()).dialect });
    try {
      await sql`create table t (id integer primary key, v text not null)`.execute(db);
      const inserted = await db.insertInto('t').values({ id: 7, v: 'x' }).executeTakeFirst();
      expect(inserted).toMatchObject({ insertId: 7n, numInsertedOrUpdatedRows: 1n });
      const err = (await db.insertInto('t').values({ id: 7, v: 'y' }).execute().catch((e: unknown) => e)) as Error & { code?: string; errcode?: number };
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toMatch(/UNIQUE constraint failed: t\.id/);
      // better-sqlite3 names the code, node:sqlite numbers it (src/store/faults/classify.ts reads both).
      expect(err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || err.errcode === 1555).toBe(true);
      // A failed transaction is rolled back, and its own error is the one that comes out.
      const failed = await db
        .transaction()
        .execute(async (trx) => {
          await trx.insertInto('t').values({ id: 8, v: 'z' }).execute();
          await trx.insertInto('t').values({ id: 7, v: 'dup' }).execute();
        })
        .catch((e: unknown) => e as Error);
      expect((failed as Error).message).toMatch(/UNIQUE constraint failed/);
      expect(await db.selectFrom('t').select(['id', 'v']).orderBy('id').execute()).toEqual([{ id: 7, v: 'x' }]);
    } finally {
      await db.destroy();
    }
  });

  it("sends a transaction's begin with its first statement (one message to the thread, not two), and rolls back as before", async () => {
    const dialect = sqliteDialect(freshDir()).dialect as ThreadSqliteDialect;
    const db = new Kysely<any>({ dialect });
    const sent: string[] = [];
    const query = dialect.thread.query.bind(dialect.thread);
    dialect.thread.query = (text, parameters, begin) => {
      sent.push(`${begin ? 'begin+' : ''}${text.split(' ')[0]}`);
      return query(text, parameters, begin);
    };
    try {
      await sql`create table t (id integer primary key, v text not null)`.execute(db);
      sent.length = 0;
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('t').values({ id: 1, v: 'a' }).execute();
        await trx.updateTable('t').set({ v: 'b' }).where('id', '=', 1).execute();
      });
      expect(sent).toEqual(['begin+insert', 'update', 'commit']);
      // A transaction whose first statement fails is rolled back whole; the next one starts clean.
      sent.length = 0;
      await expect(db.transaction().execute(async (trx) => trx.insertInto('t').values({ id: 1, v: 'again' }).execute())).rejects.toThrow(/UNIQUE/);
      await expect(
        db.transaction().execute(async (trx) => {
          await trx.insertInto('t').values({ id: 2, v: 'c' }).execute();
          await trx.insertInto('t').values({ id: 1, v: 'dup' }).execute();
        }),
      ).rejects.toThrow(/UNIQUE/);
      expect(sent).toEqual(['begin+insert', 'rollback', 'begin+insert', 'insert', 'rollback']);
      expect(await db.selectFrom('t').selectAll().orderBy('id').execute()).toEqual([{ id: 1, v: 'b' }]);
      // A transaction that runs no statement sends nothing at all.
      sent.length = 0;
      await db.transaction().execute(async () => undefined);
      expect(sent).toEqual([]);
      await db.transaction().execute(async (trx) => trx.insertInto('t').values({ id: 3, v: 'd' }).execute());
      expect(await db.selectFrom('t').select('id').orderBy('id').execute()).toEqual([{ id: 1 }, { id: 3 }]);
    } finally {
      await db.destroy();
    }
  });

  it('a thread that stops unexpectedly fails what it was running, with why; a new one takes over once, then it says to restart', async () => {
    const dialect = sqliteDialect(freshDir()).dialect as ThreadSqliteDialect;
    const db = new Kysely<any>({ dialect });
    // The fault injected: the thread ends as if it had crashed (out of memory, a fault in the driver).
    const thread = dialect.thread as unknown as { worker: Worker; pending: Map<number, unknown> };
    const crash = () => thread.worker.terminate();
    try {
      await sql`create table t (v text)`.execute(db);
      await db.insertInto('t').values({ v: 'kept' }).execute();
      const slow = sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${3_000_000}) select count(*) from n`.execute(db);
      // Once the thread has it (a thread ends between two statements: SQLite's own work runs to its end first).
      await expect.poll(() => thread.pending.size, { timeout: 10_000, interval: 5 }).toBe(1);
      await crash();
      await expect(slow).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/SQLite thread .* stopped unexpectedly .* a new one is opening it/) });
      // The new thread holds the file again: what was committed is there.
      expect(await db.selectFrom('t').select('v').execute()).toEqual([{ v: 'kept' }]);
      await crash();
      await expect(db.selectFrom('t').select('v').execute()).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining('restart Jarvis') });
    } finally {
      await db.destroy();
    }
  });
});

describe('searches take turns at the one connection', () => {
  let store: SqlConversationStore;
  const owner = 'slow';
  beforeAll(async () => {
    // Waiting is bounded at 50 ms here: a search of 4 MB, reading each position, takes several times that.
    ({ store } = await SqlConversationStore.open(sqliteDialect(freshDir()), { searchTimeoutMs: 50 }));
    for (const n of [1, 2]) {
      const c = await store.createConversation(owner, {});
      const t = await store.startTurn(owner, c.id, { kind: 'send', content: `big ${n}` }, { streamId: `s${n}`, model: 'm', fence: 1n });
      await store.updateAnswer(t.assistant.id, 1n, { content: 'a'.repeat(2_000_000), seq: 0, state: 'streaming' });
    }
  }, 60_000);
  afterAll(async () => {
    await store.close();
  });

  it('a search that has not started within JARVIS_SEARCH_TIMEOUT_MS fails saying so; the one running ends with its answer', async () => {
    const running = store.listConversations(owner, { limit: 5, q: SLOW_QUERY });
    const waiting = store.listConversations(owner, { limit: 5, q: 'big' });
    const late = (await waiting.catch((e: unknown) => e)) as StoreError;
    expect(late).toMatchObject({ code: 'unavailable', message: expect.stringContaining('JARVIS_SEARCH_TIMEOUT_MS') });
    expect((await running).items).toEqual([]);
    // Its turn came and went without a query: the next search runs.
    expect((await store.listConversations(owner, { limit: 5, q: 'big 2' })).items.map((c) => c.title)).toEqual(['big 2']);
  });

  it('a search whose client went away while it waited gives its turn up at once', async () => {
    const running = store.listConversations(owner, { limit: 5, q: SLOW_QUERY });
    const client = new AbortController();
    const waiting = store.listConversations(owner, { limit: 5, q: 'big', signal: client.signal });
    let runningDone = false;
    void running.finally(() => (runningDone = true));
    client.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'unavailable', message: 'the client went away' });
    expect(runningDone).toBe(false);
    await running;
  });
});
