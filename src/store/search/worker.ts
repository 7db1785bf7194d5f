import { parentPort, workerData } from 'node:worker_threads';
import { Kysely, SqliteDialect } from 'kysely';
import { openSqlite } from '../faults/sqliteOpen.js';
import type { Database } from '../schema.js';
import { listConversations } from './query.js';
import { StoreError, type ListQuery } from '../types.js';

// The SQLite search thread (thread.ts starts it): its own read-only
// connection to the database file, so that a search's reads, however long, never
// hold the event loop that streams answers. WAL mode (set by the writer's
// connection) lets it read while the writer writes.

export interface SearchRequest {
  id: number;
  owner: string;
  query: ListQuery;
}

export type SearchReply =
  | { id: number; page: Awaited<ReturnType<typeof listConversations>> }
  /** `storeCode`: a StoreError's code; else `code` is the driver's (SQLITE_BUSY…), for the store to classify. */
  | { id: number; error: { message: string; storeCode?: StoreError['code']; code?: string } };

const { file } = workerData as { file: string };
const port = parentPort!;
let db: Kysely<Database> | undefined;

/** Opened at the first search (and again after a failed open: a moved file may come back), so that failing to open is that search's error, in words. */
function database(): Kysely<Database> {
  if (db) return db;
  const sqlite = openSqlite(file, { readonly: true });
  sqlite.exec('PRAGMA busy_timeout = 5000');
  db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return db;
}

function failed(id: number, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown })?.code;
  const error = err instanceof StoreError ? { message, storeCode: err.code } : { message, code: typeof code === 'string' ? code : undefined };
  port.postMessage({ id, error } satisfies SearchReply);
}

port.on('message', (request: SearchRequest) => {
  let conn: Kysely<Database>;
  try {
    conn = database();
  } catch (err) {
    failed(request.id, err);
    return;
  }
  listConversations(conn, 'sqlite', request.owner, request.query).then(
    (page) => port.postMessage({ id: request.id, page } satisfies SearchReply),
    (err: unknown) => failed(request.id, err),
  );
});
