import { parentPort, workerData } from 'node:worker_threads';
import { Kysely, SqliteDialect } from 'kysely';
import { openSqlite } from '../dialects.js';
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
const sqlite = openSqlite(file, { readonly: true });
sqlite.exec('PRAGMA busy_timeout = 5000');
const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
const port = parentPort!;

port.on('message', (request: SearchRequest) => {
  listConversations(db, 'sqlite', request.owner, request.query).then(
    (page) => port.postMessage({ id: request.id, page } satisfies SearchReply),
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      const error =
        err instanceof StoreError ? { message, storeCode: err.code } : { message, code: typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : undefined };
      port.postMessage({ id: request.id, error } satisfies SearchReply);
    },
  );
});
