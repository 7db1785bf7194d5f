import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { Guard } from '../responses/sqlResponses.js';
import type { UsageDailyTable } from './table.js';
import type { UsageEntry, UsageQuery, UsageStore } from './types.js';

/** Rows per INSERT: 11 parameters each stays far below SQLite's and Postgres's bounds. */
const ROWS_PER_INSERT = 500;

/** The usage record, on the conversation store's database (same connection, same faults). */
export class SqlUsageStore implements UsageStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly guard: Guard,
  ) {}

  add(entries: readonly UsageEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    return this.guard('record usage', () =>
      this.db.transaction().execute(async (tx) => {
        for (let i = 0; i < entries.length; i += ROWS_PER_INSERT) {
          const rows = entries.slice(i, i + ROWS_PER_INSERT).map(toRow);
          await tx
            .insertInto('usage_daily')
            .values(rows)
            // Both databases add in one statement (INSERT … ON CONFLICT DO UPDATE): no read, no lost update between instances.
            .onConflict((oc) =>
              oc.columns(['day', 'key_id', 'model']).doUpdateSet((eb) => ({
                owner: eb.ref('excluded.owner'),
                key_name: eb.ref('excluded.key_name'),
                requests: sql<number>`usage_daily.requests + excluded.requests`,
                prompt_tokens: sql<number>`usage_daily.prompt_tokens + excluded.prompt_tokens`,
                completion_tokens: sql<number>`usage_daily.completion_tokens + excluded.completion_tokens`,
                stream_ms: sql<number>`usage_daily.stream_ms + excluded.stream_ms`,
                reported: sql<number>`usage_daily.reported + excluded.reported`,
                counted: sql<number>`usage_daily.counted + excluded.counted`,
              })),
            )
            .execute();
        }
      }),
    );
  }

  list(query: UsageQuery): Promise<UsageEntry[]> {
    return this.guard('read usage', async () => {
      const rows = await this.db
        .selectFrom('usage_daily')
        .selectAll()
        .where('day', '>=', query.from)
        .where('day', '<=', query.to)
        .$if(query.owner !== undefined, (q) => q.where('owner', '=', query.owner!))
        .$if(query.keyId !== undefined, (q) => q.where('key_id', '=', query.keyId!))
        .orderBy('day')
        .orderBy('owner')
        .orderBy('key_id')
        .orderBy('model')
        .execute();
      return rows.map(fromRow);
    });
  }

  deleteOfOwner(owner: string): Promise<number> {
    return this.guard('delete usage', async () => {
      const result = await this.db.deleteFrom('usage_daily').where('owner', '=', owner).executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }

  tokensOn(day: string, keyId: string): Promise<number> {
    return this.guard('read usage', async () => {
      const row = await this.db
        .selectFrom('usage_daily')
        .select(sql<string | number | null>`sum(prompt_tokens + completion_tokens)`.as('tokens'))
        .where('day', '=', day)
        .where('key_id', '=', keyId)
        .executeTakeFirst();
      return Number(row?.tokens ?? 0);
    });
  }
}

function toRow(e: UsageEntry): UsageDailyTable {
  return {
    day: e.day,
    owner: e.owner,
    key_id: e.keyId,
    key_name: e.keyName,
    model: e.model,
    requests: e.requests,
    prompt_tokens: e.promptTokens,
    completion_tokens: e.completionTokens,
    stream_ms: Math.round(e.streamMs),
    reported: e.reported,
    counted: e.counted,
  };
}

// Postgres returns bigint columns as strings.
function fromRow(r: UsageDailyTable): UsageEntry {
  return {
    day: r.day,
    owner: r.owner,
    keyId: r.key_id,
    keyName: r.key_name,
    model: r.model,
    requests: Number(r.requests),
    promptTokens: Number(r.prompt_tokens),
    completionTokens: Number(r.completion_tokens),
    streamMs: Number(r.stream_ms),
    reported: Number(r.reported),
    counted: Number(r.counted),
  };
}
