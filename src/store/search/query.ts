import { sql, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import { parseCursor, toConversation } from '../rows.js';
import type { Database } from '../schema.js';
import { snippetAround } from '../snippet.js';
import type { ConversationPage, ListedConversation, ListQuery } from '../types.js';

// Listing and searching conversations (GET /v1/conversations[?q=]). `q` is a
// case-insensitive substring of a title or of a message, wildcards and operators
// taken literally. Message text is found through an index (migration
// 0004_message_search, docs/security.md "Searches and the store"): SQLite's FTS5
// `trigram` tokenizer, Postgres's pg_trgm. Both index a message once it is settled;
// answers still streaming (a handful at any time) are scanned, so that a stream's
// flushes every 250 ms do not re-index its whole text each time.

export type SearchDialect = 'sqlite' | 'postgres';

/**
 * Characters of a message read for its snippet on each side of the match: more than
 * snippet.ts keeps (60 before, 120 after), so the snippet is the one the whole text gives.
 */
const WINDOW = 300;

/** A trigram index needs at least 3 characters (code points); a shorter `q` scans. */
const TRIGRAM = 3;

/** `q` as a case-insensitive LIKE pattern (with ESCAPE '\\'): a substring, wildcards taken literally. */
function likePattern(q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * `q` as one FTS5 string: in double quotes, its own double quotes doubled (FTS5's
 * only escape), so `AND`, `NEAR`, `*`, `:`, `^` and quotes are text, never query
 * syntax. With the trigram tokenizer, a string matches as a substring.
 */
export function ftsPhrase(q: string): string {
  return `"${q.replace(/"/g, '""')}"`;
}

const contains = (column: string, pattern: string) => sql<SqlBool>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;

/** The ids of the settled messages whose text contains `q`, through SQLite's FTS5 index. */
const ftsDocs = (q: string) => sql`(select rowid from message_search where message_search match ${ftsPhrase(q)})`;

/** A conversation (of the outer query) with a message that contains `q`. */
function hasMessageWith(eb: ExpressionBuilder<Database, 'conversations'>, dialect: SearchDialect, q: string) {
  const pattern = likePattern(q);
  if ([...q].length < TRIGRAM) {
    // No index helps: newest conversations first, each stops at its first match; LIMIT ends the scan.
    return eb.exists(
      eb.selectFrom('messages').select(sql`1`.as('one')).whereRef('messages.conversation_id', '=', 'conversations.id').where(contains('messages.content', pattern)),
    );
  }
  const streaming = eb(
    'conversations.id',
    'in',
    eb.selectFrom('messages').select('messages.conversation_id').where('messages.state', '=', 'streaming').where(contains('messages.content', pattern)),
  );
  const settled =
    dialect === 'sqlite'
      ? sql<SqlBool>`${sql.ref('conversations.id')} in (select d.conversation_id from message_search_docs d where d.doc in ${ftsDocs(q)})`
      : // The same predicate as the partial index's: Postgres uses the index only when the query implies it.
        eb(
          'conversations.id',
          'in',
          eb
            .selectFrom('messages')
            .select('messages.conversation_id')
            .where(sql<SqlBool>`messages.state is distinct from 'streaming'`)
            .where(contains('messages.content', pattern)),
        );
  return eb.or([settled, streaming]);
}

/** A page of `owner`'s conversations, newest first; with `q`, those that contain it, each with where it matched. */
export async function listConversations(db: Kysely<Database>, dialect: SearchDialect, owner: string, query: ListQuery): Promise<ConversationPage> {
  let q = db.selectFrom('conversations').selectAll().where('owner', '=', owner);
  const cursor = query.cursor ? parseCursor(query.cursor) : undefined;
  if (cursor) {
    q = q.where((eb) => eb.or([eb('updated_at', '<', cursor.updatedAt), eb.and([eb('updated_at', '=', cursor.updatedAt), eb('id', '<', cursor.id)])]));
  }
  const text = query.q;
  if (text) {
    // lower() + LIKE … ESCAPE behaves the same in SQLite and Postgres.
    q = q.where((eb) => eb.or([contains('conversations.title', likePattern(text)), hasMessageWith(eb, dialect, text)]));
  }
  const rows = await q.orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(query.limit + 1).execute();
  const items: ListedConversation[] = rows.slice(0, query.limit).map(toConversation);
  if (text && items.length > 0) await addMatches(db, dialect, items, text);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > query.limit && last ? `${last.updatedAt}.${last.id}` : null };
}

/**
 * Each result's snippet: the first message that contains `q` (row_number() works in SQLite and
 * Postgres alike), else its title. Found with instr()/strpos() among the page's conversations only:
 * for a text in almost every message that is ~10 ms where the index's full list of matches took
 * ~200 ms, and the work is bounded by the page, as it always was.
 */
async function addMatches(db: Kysely<Database>, dialect: SearchDialect, items: ListedConversation[], q: string): Promise<void> {
  const lower = q.toLowerCase();
  const at = sql<number>`${sql.raw(dialect === 'sqlite' ? 'instr' : 'strpos')}(lower(content), ${lower})`;
  // Only the text around the first match comes back (not up to 1 MB per message), and the snippet is cut from that.
  const from = sql`${sql.raw(dialect === 'sqlite' ? 'max' : 'greatest')}(1, ${at} - ${WINDOW})`;
  const ranked = db
    .selectFrom('messages')
    .select([
      'conversation_id',
      'id',
      'role',
      sql<string>`substr(content, ${from}, ${2 * WINDOW + lower.length})`.as('content'),
      sql<number>`row_number() over (partition by conversation_id order by position)`.as('rank'),
    ])
    .where('conversation_id', 'in', items.map((c) => c.id))
    .where(sql<SqlBool>`${at} > 0`)
    .as('ranked');
  const first = await db.selectFrom(ranked).select(['conversation_id', 'id', 'role', 'content']).where('rank', '=', 1).execute();
  const byConversation = new Map(first.map((m) => [m.conversation_id, m]));
  for (const item of items) {
    const m = byConversation.get(item.id);
    item.match = m
      ? { messageId: m.id, role: m.role, ...snippetAround(m.content, q) }
      : { messageId: null, role: null, ...snippetAround(item.title, q) };
  }
}
