import { Migrator, SqliteAdapter, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { apiKeysMigration } from './keys/schema.js';
import { ownerUsageMigration } from './quota.js';
import { responsesMigration } from './responses/schema.js';
import { messageTreeMigration } from './tree/migration.js';
import { usageMigration } from './usage/schema.js';
import { StoreError } from './types.js';

// One schema for SQLite and Postgres. Migrations live in code (not files found at
// run time) so the built server and the tests run the same list; add new ones at
// the end, never edit one that has shipped.

/** Exported for the tests, which take a database back to an earlier version. */
export const migrations: Record<string, Migration> = {
  '0001_conversations': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('conversations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('owner', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('title', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('system', 'text')
        .addColumn('model', 'text')
        .addColumn('params', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('conversations_owner_updated').on('conversations').columns(['owner', 'updated_at', 'id']).execute();

      await db.schema
        .createTable('messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('state', 'text')
        .addColumn('stream_id', 'text')
        .addColumn('seq', 'integer')
        .addColumn('cursor', 'text')
        .addColumn('reasoning', 'text')
        .addColumn('tool_calls', 'text')
        .addColumn('model', 'text')
        .addColumn('usage', 'text')
        .addColumn('timings', 'text')
        .addColumn('error', 'text')
        .addColumn('fence', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('messages_conversation_position', ['conversation_id', 'position'])
        .execute();
      await db.schema.createIndex('messages_stream').on('messages').column('stream_id').execute();
      // The start-up sweep looks for answers left streaming.
      await db.schema.createIndex('messages_state').on('messages').column('state').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('messages').execute();
      await db.schema.dropTable('conversations').execute();
    },
  },
  // Cluster mode: which instance streams an answer, so that an instance's start-up
  // sweep takes only its own answers (and those of instances that are gone).
  '0002_message_instance': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('messages').addColumn('instance', 'text').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('messages').dropColumn('instance').execute();
    },
  },
  // Each key's stored bytes, for JARVIS_STORAGE_QUOTA_BYTES (quota.ts).
  '0003_owner_usage': ownerUsageMigration,
  // Search (search/query.ts) through an index instead of a scan of every message: see
  // messageSearch below. Builds the index for the messages already stored.
  '0004_message_search': {
    async up(db: Kysely<any>) {
      if (isSqlite(db)) await sqliteSearchUp(db);
      else await postgresSearchUp(db);
    },
    async down(db: Kysely<any>) {
      if (isSqlite(db)) {
        await sqliteSearchDown(db);
      } else {
        await sql`drop index if exists messages_content_trgm`.execute(db);
      }
    },
  },
  // Stored responses of the Responses API (responses/schema.ts, docs/responses.md).
  '0005_responses': responsesMigration,
  // The message tree and attachments (tree/migration.ts, docs/conversations.md "Branches").
  '0006_message_tree': messageTreeMigration,
  // Keys managed at run time (keys/schema.ts, docs/team.md "3. Keys").
  '0007_api_keys': apiKeysMigration,
  // The usage record per key, model and UTC day (usage/schema.ts, docs/team.md "Usage and limits").
  '0008_usage': usageMigration,
};

function isSqlite(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

/** Settled: indexed. A streaming answer's text changes every 250 ms; search scans those few instead. */
const SETTLED_SQLITE = "state is not 'streaming'";

/**
 * SQLite: an FTS5 table with the trigram tokenizer (a substring of 3 or more
 * characters, case-insensitive, is an index lookup), contentless (the text stays in
 * `messages` only) with deletes (SQLite 3.43+). Its rowids are `message_search_docs`'s
 * INTEGER PRIMARY KEY, not `messages`' implicit rowid, which VACUUM may renumber.
 * Triggers keep both current in the same transaction as every write.
 */
async function sqliteSearchUp(db: Kysely<any>): Promise<void> {
  // Kysely runs SQLite's migrations outside a transaction, and building the index of a
  // big store takes a while (a minute for 300 MB of text): a process killed meanwhile
  // must leave nothing half-made behind. One transaction, after clearing what an
  // interrupted run may have committed just before it was recorded as done.
  await sqliteSearchDown(db);
  await sql`begin immediate`.execute(db);
  try {
    await sqliteSearchBuild(db);
    await sql`commit`.execute(db);
  } catch (err) {
    await sql`rollback`.execute(db);
    throw err;
  }
}

async function sqliteSearchDown(db: Kysely<any>): Promise<void> {
  for (const t of ['message_search_insert', 'message_search_update', 'message_search_delete']) await sql`drop trigger if exists ${sql.raw(t)}`.execute(db);
  await sql`drop table if exists message_search`.execute(db);
  await sql`drop table if exists message_search_docs`.execute(db);
}

async function sqliteSearchBuild(db: Kysely<any>): Promise<void> {
  await sql`create table message_search_docs (doc integer primary key, message_id text not null unique, conversation_id text not null)`.execute(db);
  await sql`create index message_search_docs_conversation on message_search_docs (conversation_id)`.execute(db);
  await sql`create virtual table message_search using fts5(content, content='', contentless_delete=1, tokenize='trigram')`.execute(db);
  const index = (row: 'new') => sql.raw(`
    insert into message_search_docs (message_id, conversation_id) select ${row}.id, ${row}.conversation_id where ${row}.${SETTLED_SQLITE};
    insert into message_search (rowid, content) select doc, ${row}.content from message_search_docs where message_id = ${row}.id and ${row}.${SETTLED_SQLITE};`);
  const unindex = (row: 'old') => sql.raw(`
    delete from message_search where rowid = (select doc from message_search_docs where message_id = ${row}.id);
    delete from message_search_docs where message_id = ${row}.id;`);
  await sql`create trigger message_search_insert after insert on messages begin ${index('new')} end`.execute(db);
  // Only when what is indexed changes: the text of a settled message, or settling (streaming → done…).
  await sql`create trigger message_search_update after update of content, state on messages
    when (old.${sql.raw(SETTLED_SQLITE)}) is not (new.${sql.raw(SETTLED_SQLITE)}) or (new.${sql.raw(SETTLED_SQLITE)} and old.content is not new.content)
    begin ${unindex('old')} ${index('new')} end`.execute(db);
  await sql`create trigger message_search_delete after delete on messages begin ${unindex('old')} end`.execute(db);
  await sql`insert into message_search_docs (message_id, conversation_id) select id, conversation_id from messages where ${sql.raw(SETTLED_SQLITE)}`.execute(db);
  await sql`insert into message_search (rowid, content) select d.doc, m.content from message_search_docs d join messages m on m.id = d.message_id`.execute(db);
}

/**
 * Postgres: pg_trgm's GIN index on lower(content), which serves `lower(content) LIKE
 * '%…%'` for 3 or more characters. Partial, like SQLite's: a streaming answer's
 * flushes do not touch it. pg_trgm ships with Postgres (Debian's postgresql, the
 * official images, the managed services) and is a trusted extension: the database's
 * owner may create it. Where it cannot be created, search works without the index
 * (a scan, in the database's process) and the migration says so in the server log
 * of Postgres; `CREATE EXTENSION pg_trgm` and this index can be added later by hand.
 */
async function postgresSearchUp(db: Kysely<any>): Promise<void> {
  await sql`savepoint pg_trgm`.execute(db);
  try {
    await sql`create extension if not exists pg_trgm`.execute(db);
  } catch {
    await sql`rollback to savepoint pg_trgm`.execute(db);
    return;
  }
  await sql`create index messages_content_trgm on messages using gin (lower(content) gin_trgm_ops) where state is distinct from 'streaming'`.execute(db);
}

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Brings the schema up to date; returns the names of the migrations it ran. */
export async function migrate(db: Kysely<any>): Promise<string[]> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    // No failed migration named: the database could not even be asked (connection, permissions).
    if (!failed) throw error;
    throw new StoreError('internal', `database migration ${failed} failed: ${reason}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
