import { join, resolve } from 'node:path';
import { PostgresDialect, type Dialect } from 'kysely';
import pg from 'pg';
import { ThreadSqliteDialect } from './sqliteWorker/driver.js';
import { SqliteThread, type SqliteThreadOptions } from './sqliteWorker/thread.js';

/**
 * What differs between the databases, as named flags (the way Kysely's
 * DialectAdapter names `supportsReturning`): queries consult a flag, never the
 * database's name.
 */
export interface DatabaseTraits {
  /**
   * `SELECT … FOR UPDATE` exists and is needed: concurrent transactions run at
   * once (Postgres). SQLite has neither: Kysely runs its transactions one at a time.
   */
  rowLocks: boolean;
}

export interface OpenedDialect {
  kind: 'sqlite' | 'postgres';
  location: string;
  dialect: Dialect;
  traits: DatabaseTraits;
}

export const SQLITE_FILE = 'jarvis.db';

/**
 * SQLite in `dataDir` (created if missing): one file, WAL mode, held by this
 * process alone (faults/sqliteOpen.ts says why); checked with `PRAGMA quick_check` first.
 * Its one connection lives on its own thread (sqliteWorker/), which opens the file
 * now; the first query waits for it, and fails with why it could not.
 */
export function sqliteDialect(dataDir: string, options: SqliteThreadOptions = {}): OpenedDialect & { readonly checkMs?: number; readonly sizeBytes?: number } {
  const file = resolve(join(dataDir, SQLITE_FILE));
  const thread = new SqliteThread(file, options);
  return {
    kind: 'sqlite',
    location: file,
    dialect: new ThreadSqliteDialect(thread),
    traits: { rowLocks: false },
    // Known once the thread has opened the file (the store's first query waits for it).
    get checkMs() {
      return thread.opened?.checkMs;
    },
    get sizeBytes() {
      return thread.opened?.sizeBytes;
    },
  };
}

/** Postgres at `url` (DATABASE_URL). */
export function postgresDialect(url: string): OpenedDialect {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    // Every statement is bounded: a stuck database turns into errors, not hangs.
    query_timeout: 10_000,
    // Times and fences are bigint columns whose values fit a JS number exactly;
    // pg would otherwise return them (and count(*)) as strings.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // A client whose server went away emits 'error'; unhandled, it crashes the process. The pool
  // handles it for idle clients ('error' on the pool); a client checked out for a query needs its
  // own listener (the query itself fails with the error, becomes 503 store_unavailable, and the
  // pool drops the client when it comes back). Postgres stopping mid-query killed Jarvis.
  pool.on('error', () => {});
  pool.on('connect', (client) => void client.on('error', () => {}));
  return { kind: 'postgres', location: redact(url), dialect: new PostgresDialect({ pool }), traits: { rowLocks: true } };
}

/** The URL without its password, for logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres (unparsable DATABASE_URL)';
  }
}
