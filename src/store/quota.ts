import { PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';
import type { Database } from './schema.js';

// Each key's storage, counted where it is written (docs/security.md "Retained
// answers and storage"): triggers on conversations and messages record every change
// of a row's size in `usage_log`, and a key's use is `owner_usage.bytes` plus its
// pending changes, folded in when it is read. Triggers see every write (the store's
// own, an import, a retry), so nothing in sqlStore.ts has to remember to count.
//
// Why a log of changes rather than one counter updated by the triggers: a counter row
// per key is one more row lock in every answer flush, taken after the message row's
// lock, while a prompt that edits or deletes takes them the other way round (Postgres
// would deadlock now and then). Inserting a change takes no lock anyone else waits on.

/** What a stored row costs besides its text (its id, times, index entries), so that empty rows are not free. */
export const ROW_BYTES = 200;

/** A conversation's bytes as the triggers count them. */
export function conversationBytes(c: { title?: string | null; system?: string | null }): number {
  return ROW_BYTES + textBytes(c.title) + textBytes(c.system);
}

/** A message's bytes as the triggers count them (tool calls and attachments: their JSON text). */
export function messageBytes(m: { content?: string | null; reasoning?: string | null; toolCalls?: string | null; attachments?: string | null }): number {
  return ROW_BYTES + textBytes(m.content) + textBytes(m.reasoning) + textBytes(m.toolCalls) + textBytes(m.attachments);
}

export function textBytes(text: string | null | undefined): number {
  return text ? Buffer.byteLength(text, 'utf8') : 0;
}

type QuotaTables = {
  owner_usage: { owner: string; bytes: number };
  usage_log: { owner: string; delta: number };
};

/** The bytes `owner` stores now (folding its pending changes into its total). */
export async function storageUsed(db: Kysely<Database>, owner: string): Promise<number> {
  const rowLocks = db.getExecutor().adapter instanceof PostgresAdapter;
  return db
    .withTables<QuotaTables>()
    .transaction()
    .execute(async (trx) => {
      // The key's total row, locked first: folds of one key take their turns (SQLite runs one transaction at a time anyway).
      await trx.insertInto('owner_usage').values({ owner, bytes: 0 }).onConflict((oc) => oc.column('owner').doNothing()).execute();
      const row = await trx.selectFrom('owner_usage').select('bytes').where('owner', '=', owner).$if(rowLocks, (q) => q.forUpdate()).executeTakeFirstOrThrow();
      const changes = await trx.deleteFrom('usage_log').where('owner', '=', owner).returning('delta').execute();
      const sum = changes.reduce((total, c) => total + Number(c.delta), 0);
      if (sum !== 0) await trx.updateTable('owner_usage').set({ bytes: Number(row.bytes) + sum }).where('owner', '=', owner).execute();
      return Number(row.bytes) + sum;
    });
}

// The size expressions, in SQL both databases run alike (octet_length: SQLite 3.43+, Postgres).
/**
 * Forgets `owner`'s storage account once nothing of theirs is stored (a person's data deleted:
 * docs/team.md "7. A person's data"), so their name is not left behind in it. True when forgotten;
 * false when something of theirs is stored still (written meanwhile: the account stays right).
 */
export async function forgetStorage(db: Kysely<Database>, owner: string): Promise<boolean> {
  if ((await storageUsed(db, owner)) !== 0) return false;
  return db
    .withTables<QuotaTables>()
    .transaction()
    .execute(async (trx) => {
      const pending = await trx.selectFrom('usage_log').select('owner').where('owner', '=', owner).limit(1).execute();
      if (pending.length > 0) return false;
      await trx.deleteFrom('owner_usage').where('owner', '=', owner).where('bytes', '=', 0).execute();
      return true;
    });
}

const len = (column: string) => `coalesce(octet_length(${column}), 0)`;
const conv = (row: string) => `(${ROW_BYTES} + ${len(`${row}.title`)} + ${len(`${row}.system`)})`;
/** A message's size; `attachments` since the message tree's migration (tree/migration.ts) added the column. */
const msg = (row: string, attachments = false) =>
  `(${ROW_BYTES} + ${len(`${row}.content`)} + ${len(`${row}.reasoning`)} + ${len(`${row}.tool_calls`)}${attachments ? ` + ${len(`${row}.attachments`)}` : ''})`;
const log = 'INSERT INTO usage_log (owner, delta)';
/** A message's owner is its conversation's (messages are deleted before their conversation, see sqlStore). */
const ofConversation = (row: string) => `FROM conversations WHERE id = ${row}.conversation_id`;

const SQLITE_TRIGGERS = [
  `CREATE TRIGGER usage_conversation_insert AFTER INSERT ON conversations BEGIN ${log} VALUES (NEW.owner, ${conv('NEW')}); END`,
  `CREATE TRIGGER usage_conversation_update AFTER UPDATE OF title, system ON conversations BEGIN ${log} SELECT NEW.owner, ${conv('NEW')} - ${conv('OLD')} WHERE ${conv('NEW')} <> ${conv('OLD')}; END`,
  `CREATE TRIGGER usage_conversation_delete AFTER DELETE ON conversations BEGIN ${log} VALUES (OLD.owner, -${conv('OLD')}); END`,
  ...sqliteMessageTriggers(false),
];

function sqliteMessageTriggers(attachments: boolean): string[] {
  const m = (row: string) => msg(row, attachments);
  const columns = attachments ? 'content, reasoning, tool_calls, attachments' : 'content, reasoning, tool_calls';
  return [
    `CREATE TRIGGER usage_message_insert AFTER INSERT ON messages BEGIN ${log} SELECT owner, ${m('NEW')} ${ofConversation('NEW')}; END`,
    `CREATE TRIGGER usage_message_update AFTER UPDATE OF ${columns} ON messages BEGIN ${log} SELECT owner, ${m('NEW')} - ${m('OLD')} ${ofConversation('NEW')} AND ${m('NEW')} <> ${m('OLD')}; END`,
    `CREATE TRIGGER usage_message_delete AFTER DELETE ON messages BEGIN ${log} SELECT owner, -${m('OLD')} ${ofConversation('OLD')}; END`,
  ];
}

const POSTGRES_TRIGGERS = [
  `CREATE FUNCTION jarvis_usage_conversations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN ${log} VALUES (NEW.owner, ${conv('NEW')});
  ELSIF TG_OP = 'UPDATE' THEN
    IF ${conv('NEW')} <> ${conv('OLD')} THEN ${log} VALUES (NEW.owner, ${conv('NEW')} - ${conv('OLD')}); END IF;
  ELSE ${log} VALUES (OLD.owner, -${conv('OLD')});
  END IF;
  RETURN NULL;
END $$`,
  `CREATE TRIGGER usage_conversations AFTER INSERT OR DELETE OR UPDATE OF title, system ON conversations FOR EACH ROW EXECUTE PROCEDURE jarvis_usage_conversations()`,
  ...postgresMessageTriggers(false, 'CREATE FUNCTION'),
];

function postgresMessageTriggers(attachments: boolean, create: 'CREATE FUNCTION' | 'CREATE OR REPLACE FUNCTION'): string[] {
  const m = (row: string) => msg(row, attachments);
  const columns = attachments ? 'content, reasoning, tool_calls, attachments' : 'content, reasoning, tool_calls';
  return [
    `${create} jarvis_usage_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN ${log} SELECT owner, ${m('NEW')} ${ofConversation('NEW')};
  ELSIF TG_OP = 'UPDATE' THEN
    IF ${m('NEW')} <> ${m('OLD')} THEN ${log} SELECT owner, ${m('NEW')} - ${m('OLD')} ${ofConversation('NEW')}; END IF;
  ELSE ${log} SELECT owner, -${m('OLD')} ${ofConversation('OLD')};
  END IF;
  RETURN NULL;
END $$`,
    `CREATE TRIGGER usage_messages AFTER INSERT OR DELETE OR UPDATE OF ${columns} ON messages FOR EACH ROW EXECUTE PROCEDURE jarvis_usage_messages()`,
  ];
}

/**
 * The message triggers counting the `attachments` column too (the message tree's migration adds
 * it; no row has any yet, so nothing counted so far changes). Replaces 0003's message triggers.
 */
export function attachmentUsageStatements(postgres: boolean, attachments = true): string[] {
  if (postgres) return ['DROP TRIGGER usage_messages ON messages', ...postgresMessageTriggers(attachments, 'CREATE OR REPLACE FUNCTION')];
  return [...['insert', 'update', 'delete'].map((op) => `DROP TRIGGER usage_message_${op}`), ...sqliteMessageTriggers(attachments)];
}

const BACKFILL = `INSERT INTO owner_usage (owner, bytes)
SELECT owner, sum(b) FROM (
  SELECT c.owner AS owner, ${conv('c')} AS b FROM conversations c
  UNION ALL
  SELECT c.owner AS owner, ${msg('m')} AS b FROM messages m JOIN conversations c ON c.id = m.conversation_id
) t GROUP BY owner`;

/** The migration that adds the tables and triggers, and counts what is stored already. */
export const ownerUsageMigration: Migration = {
  async up(db: Kysely<any>) {
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    await db.schema
      .createTable('owner_usage')
      .addColumn('owner', 'text', (c) => c.primaryKey())
      .addColumn('bytes', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createTable('usage_log').addColumn('owner', 'text', (c) => c.notNull()).addColumn('delta', 'bigint', (c) => c.notNull()).execute();
    await db.schema.createIndex('usage_log_owner').on('usage_log').column('owner').execute();
    await sql.raw(BACKFILL).execute(db);
    for (const statement of postgres ? POSTGRES_TRIGGERS : SQLITE_TRIGGERS) await sql.raw(statement).execute(db);
  },
  async down(db: Kysely<any>) {
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    const drops = postgres
      ? ['DROP TRIGGER usage_conversations ON conversations', 'DROP TRIGGER usage_messages ON messages', 'DROP FUNCTION jarvis_usage_conversations()', 'DROP FUNCTION jarvis_usage_messages()']
      : SQLITE_TRIGGERS.map((t) => `DROP TRIGGER ${/CREATE TRIGGER (\w+)/.exec(t)![1]}`);
    for (const statement of drops) await sql.raw(statement).execute(db);
    await db.schema.dropTable('usage_log').execute();
    await db.schema.dropTable('owner_usage').execute();
  },
};
