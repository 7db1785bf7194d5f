import { PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';
import { ROW_BYTES } from '../quota.js';

// Migration 0005_responses: the table (its columns: table.ts), its indexes and its quota triggers.

// A response's bytes count toward its key's JARVIS_STORAGE_QUOTA_BYTES like a message's
// (quota.ts: triggers record every change of a row's size in usage_log).
const len = (column: string) => `coalesce(octet_length(${column}), 0)`;
const size = (row: string) => `(${ROW_BYTES} + ${len(`${row}.request`)} + ${len(`${row}.input`)} + ${len(`${row}.response`)})`;
const log = 'INSERT INTO usage_log (owner, delta)';

const SQLITE_TRIGGERS = [
  `CREATE TRIGGER usage_response_insert AFTER INSERT ON responses BEGIN ${log} VALUES (NEW.owner, ${size('NEW')}); END`,
  `CREATE TRIGGER usage_response_update AFTER UPDATE OF request, input, response ON responses BEGIN ${log} SELECT NEW.owner, ${size('NEW')} - ${size('OLD')} WHERE ${size('NEW')} <> ${size('OLD')}; END`,
  `CREATE TRIGGER usage_response_delete AFTER DELETE ON responses BEGIN ${log} VALUES (OLD.owner, -${size('OLD')}); END`,
];

const POSTGRES_TRIGGERS = [
  `CREATE FUNCTION jarvis_usage_responses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN ${log} VALUES (NEW.owner, ${size('NEW')});
  ELSIF TG_OP = 'UPDATE' THEN
    IF ${size('NEW')} <> ${size('OLD')} THEN ${log} VALUES (NEW.owner, ${size('NEW')} - ${size('OLD')}); END IF;
  ELSE ${log} VALUES (OLD.owner, -${size('OLD')});
  END IF;
  RETURN NULL;
END $$`,
  `CREATE TRIGGER usage_responses AFTER INSERT OR DELETE OR UPDATE OF request, input, response ON responses FOR EACH ROW EXECUTE PROCEDURE jarvis_usage_responses()`,
];

/** Migration 0005_responses: the table, its indexes and its quota triggers. */
export const responsesMigration: Migration = {
  async up(db: Kysely<any>) {
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    await db.schema
      .createTable('responses')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('owner', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('background', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('stream_id', 'text', (c) => c.notNull())
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('fence', 'bigint', (c) => c.notNull())
      .addColumn('instance', 'text')
      .addColumn('previous_response_id', 'text')
      .addColumn('request', 'text', (c) => c.notNull())
      .addColumn('input', 'text', (c) => c.notNull())
      .addColumn('response', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('responses_expires').on('responses').column('expires_at').execute();
    await db.schema.createIndex('responses_stream').on('responses').column('stream_id').execute();
    for (const statement of postgres ? POSTGRES_TRIGGERS : SQLITE_TRIGGERS) await sql.raw(statement).execute(db);
  },
  async down(db: Kysely<any>) {
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    const drops = postgres
      ? ['DROP TRIGGER usage_responses ON responses', 'DROP FUNCTION jarvis_usage_responses()']
      : ['DROP TRIGGER usage_response_insert', 'DROP TRIGGER usage_response_update', 'DROP TRIGGER usage_response_delete'];
    for (const statement of drops) await sql.raw(statement).execute(db);
    await db.schema.dropTable('responses').execute();
  },
};
