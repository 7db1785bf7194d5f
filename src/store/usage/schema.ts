import type { Kysely, Migration } from 'kysely';

/** Migration 0008_usage: the usage record (table.ts), one row per UTC day, key and model. */
export const usageMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('usage_daily')
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('owner', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('key_name', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('requests', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('prompt_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('completion_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('stream_ms', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('reported', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('counted', 'bigint', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('usage_daily_pk', ['day', 'key_id', 'model'])
      .execute();
    // A person's usage (`GET /v1/usage` of a non-admin) is read by owner and days.
    await db.schema.createIndex('usage_daily_owner').on('usage_daily').columns(['owner', 'day']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('usage_daily').execute();
  },
};
