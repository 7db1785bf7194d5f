import { PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';
import { attachmentUsageStatements } from '../quota.js';

// The message tree (docs/conversations.md "Branches") and attachments: every message knows
// its parent, a conversation its current branch's last message, a user message its files.
// A store from before is migrated in place: its linear history becomes one branch (each
// message's parent is the one before it) and its last message the current one.

export const messageTreeMigration: Migration = {
  async up(db: Kysely<any>) {
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    // Postgres runs a migration in a transaction; Kysely runs SQLite's outside one, and a process
    // killed between the ALTERs must not leave half a schema that the next start cannot redo.
    if (!postgres) await sql`begin immediate`.execute(db);
    try {
      await db.schema.alterTable('messages').addColumn('parent_id', 'text').execute();
      await db.schema.alterTable('messages').addColumn('attachments', 'text').execute();
      await db.schema.alterTable('conversations').addColumn('current_id', 'text').execute();
      await sql`update messages set parent_id = (
        select p.id from messages p where p.conversation_id = messages.conversation_id and p.position < messages.position
        order by p.position desc limit 1)`.execute(db);
      await sql`update conversations set current_id = (
        select m.id from messages m where m.conversation_id = conversations.id order by m.position desc limit 1)`.execute(db);
      // A message's versions are its parent's children.
      await db.schema.createIndex('messages_parent').on('messages').columns(['conversation_id', 'parent_id']).execute();
      for (const statement of attachmentUsageStatements(postgres)) await sql.raw(statement).execute(db);
      if (!postgres) await sql`commit`.execute(db);
    } catch (err) {
      if (!postgres) await sql`rollback`.execute(db);
      throw err;
    }
  },
  async down(db: Kysely<any>) {
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    for (const statement of attachmentUsageStatements(postgres, false)) await sql.raw(statement).execute(db);
    await db.schema.dropIndex('messages_parent').execute();
    await db.schema.alterTable('conversations').dropColumn('current_id').execute();
    await db.schema.alterTable('messages').dropColumn('attachments').execute();
    await db.schema.alterTable('messages').dropColumn('parent_id').execute();
  },
};
