import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { ownerUsageMigration } from './quota.js';
import { StoreError } from './types.js';

// One schema for SQLite and Postgres. Migrations live in code (not files found at
// run time) so the built server and the tests run the same list; add new ones at
// the end, never edit one that has shipped.

const migrations: Record<string, Migration> = {
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
};

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
