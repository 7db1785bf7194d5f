import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { PostgresDialect, SqliteDialect, type Dialect, type SqliteDatabase } from 'kysely';
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
  const db = openSqlite(file);
  // WAL: readers never block the writer, and a crash (kill -9) loses nothing that
  // was committed. NORMAL sync is safe with WAL (only an OS crash may drop the last
  // commits), and keeps an answer's flushes cheap.
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA foreign_keys = ON');
  db.exec('PRAGMA busy_timeout = 5000');
  return { kind: 'sqlite', location: file, dialect: new SqliteDialect({ database: db }), traits: { rowLocks: false } };
}

export type OpenSqlite = SqliteDatabase & { exec(sql: string): unknown };

/**
 * better-sqlite3 12.x aborts the process on Node 24 when V8 collects a prepared
 * statement (`Assertion failed: (env) != nullptr` in RemoveEnvironmentCleanupHook,
 * from Statement::~Statement), and 13.x, which may not, needs Node 22. So on Node 24
 * and later Jarvis uses Node's own `node:sqlite` (no native module to build), and
 * better-sqlite3 — loaded only then — on Node 20 and 22.
 */
export function openSqlite(file: string, options: { readonly?: boolean } = {}): OpenSqlite {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= 24) return nodeSqlite(file, options.readonly === true);
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  return new Database(file, { readonly: options.readonly === true });
}

/** The part of `node:sqlite` used here (typed locally: @types/node 20 has none). */
interface NodeSqliteModule {
  DatabaseSync: new (file: string, options?: { readOnly?: boolean }) => {
    exec(sql: string): void;
    close(): void;
    prepare(sql: string): {
      columns(): unknown[];
      all(...params: unknown[]): unknown[];
      run(...params: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
      iterate(...params: unknown[]): IterableIterator<unknown>;
    };
  };
}

/** `node:sqlite`'s DatabaseSync shaped as Kysely's SqliteDatabase (what better-sqlite3 offers). */
function nodeSqlite(file: string, readOnly: boolean): OpenSqlite {
  const getBuiltin = (process as unknown as { getBuiltinModule(id: string): unknown }).getBuiltinModule;
  const { DatabaseSync } = getBuiltin('node:sqlite') as NodeSqliteModule;
  const db = new DatabaseSync(file, { readOnly });
  return {
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
    prepare(sql) {
      const stmt = db.prepare(sql);
      return {
        // A statement that returns rows (SELECT, or anything with RETURNING) has columns.
        reader: stmt.columns().length > 0,
        all: (params) => stmt.all(...params),
        run: (params) => stmt.run(...params),
        iterate: (params) => stmt.iterate(...params),
      };
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
