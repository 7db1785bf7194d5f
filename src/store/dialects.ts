import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { PostgresDialect, SqliteDialect, type Dialect } from 'kysely';
import pg from 'pg';

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

/** SQLite in `dataDir` (created if missing): one file, WAL mode. */
export function sqliteDialect(dataDir: string): OpenedDialect {
  mkdirSync(dataDir, { recursive: true });
  const file = resolve(join(dataDir, SQLITE_FILE));
  const db = new SqliteDatabase(file);
  // WAL: readers never block the writer, and a crash (kill -9) loses nothing that
  // was committed. NORMAL sync is safe with WAL (only an OS crash may drop the last
  // commits), and keeps an answer's flushes cheap.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return { kind: 'sqlite', location: file, dialect: new SqliteDialect({ database: db }), traits: { rowLocks: false } };
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
  // An idle client whose server went away emits 'error'; unhandled, it would crash the process.
  pool.on('error', () => {});
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
