import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { AnswerFlush } from '../types.js';

/** Answers per statement at most: 8 parameters each, far below SQLite's and Postgres's bounds. */
const ROWS_PER_STATEMENT = 200;

/**
 * Writes many streaming answers' progress in one statement per ROWS_PER_STATEMENT
 * (`UPDATE … FROM (VALUES …)`, which SQLite and Postgres both read, with VALUES's
 * columns named `column1`… in both), each row under the same conditions as
 * `updateAnswer`'s: still `streaming`, a fence no newer than the writer's, and for an
 * append, stored text that ends where the writer left it. Returns, in order,
 * whether each answer was written. A statement is atomic: one that fails writes
 * none of its rows, and the caller tries them again whole or from where they were.
 */
export async function flushAnswers(db: Kysely<Database>, flushes: readonly AnswerFlush[]): Promise<boolean[]> {
  const written = new Set<string>();
  const now = Date.now();
  for (let at = 0; at < flushes.length; at += ROWS_PER_STATEMENT) {
    const rows = flushes.slice(at, at + ROWS_PER_STATEMENT).map(
      (f) =>
        sql`(cast(${f.messageId} as text), cast(${Number(f.fence)} as bigint), cast(${f.appendAfter ?? null} as text), cast(${f.content} as text), cast(${f.reasoning ?? null} as text), cast(${f.seq} as integer), cast(${f.cursor} as text), cast(${f.toolCalls ? JSON.stringify(f.toolCalls) : null} as text))`,
    );
    // v: column1 id, column2 fence, column3 append after (null: the whole text), column4 content,
    // column5 reasoning (null: none new), column6 seq, column7 cursor, column8 tool calls.
    const result = await sql<{ id: string }>`
      update messages set
        content = case when v.column3 is null then v.column4 else messages.content || v.column4 end,
        reasoning = case when v.column3 is null then v.column5 when v.column5 is null then messages.reasoning else coalesce(messages.reasoning, '') || v.column5 end,
        seq = v.column6,
        cursor = v.column7,
        tool_calls = v.column8,
        updated_at = ${now}
      from (values ${sql.join(rows)}) as v
      where messages.id = v.column1
        and messages.state = 'streaming'
        and messages.fence <= v.column2
        and (v.column3 is null or messages.cursor = v.column3)
      returning messages.id`.execute(db);
    for (const row of result.rows) written.add(row.id);
  }
  return flushes.map((f) => written.has(f.messageId));
}
