import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';
import { faultReason, sqliteCode } from './classify.js';
import { StoreError } from '../types.js';

export type OpenSqlite = SqliteDatabase & { exec(sql: string): unknown; prepare(sql: string): { all(params: readonly unknown[]): unknown[] } };

export interface SqliteOpenOptions {
  /** Run `PRAGMA quick_check` before serving (JARVIS_STORE_QUICK_CHECK; on by default). */
  quickCheck?: boolean;
}

/** What opening the file found, for the start-up log line. */
export interface SqliteOpened {
  db: OpenSqlite;
  /** How long quick_check took (undefined: not run). */
  checkMs: number | undefined;
  sizeBytes: number;
}

/**
 * Opens Jarvis's SQLite file, or throws a StoreError saying what to fix.
 *
 * Journal and locking: WAL (readers never block the writer; a crash loses nothing
 * committed) with `locking_mode=EXCLUSIVE` set before the first access, so SQLite
 * keeps WAL's index in heap memory instead of memory-mapping a `-shm` file. A mapped
 * `-shm` that shrinks or cannot be backed (a full tmpfs, a truncated file) kills the
 * process with SIGBUS, before anything can be logged. One Jarvis process owns the
 * file (cluster mode shares Postgres, not SQLite), so the exclusive lock costs
 * nothing; a second process on the same file is refused (SQLITE_BUSY) with a message.
 * `mmap_size=0`: no other part of the file is memory-mapped either.
 */
export function openSqliteFile(file: string, options: SqliteOpenOptions = {}): SqliteOpened {
  const dir = dirname(file);
  preflight(file, dir);
  let db: OpenSqlite | undefined;
  try {
    db = openSqlite(file);
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('PRAGMA mmap_size = 0');
    db.exec('PRAGMA journal_mode = WAL');
    // NORMAL sync is safe with WAL (only an OS crash may drop the last commits), and keeps an answer's flushes cheap.
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA foreign_keys = ON');
    let checkMs: number | undefined;
    if (options.quickCheck !== false) {
      const started = performance.now();
      const rows = db.prepare('PRAGMA quick_check(5)').all([]) as Array<Record<string, unknown>>;
      checkMs = Math.round(performance.now() - started);
      const problems = rows.map((r) => String(Object.values(r)[0])).filter((r) => r !== 'ok');
      if (problems.length > 0) throw new CorruptDatabase(problems.join('; '));
    }
    return { db, checkMs, sizeBytes: statSync(file).size };
  } catch (err) {
    try {
      db?.close();
    } catch {
      // Closing a connection that failed to open says nothing more.
    }
    // Already in words (the driver missing on Node 22): said as it is.
    if (err instanceof StoreError) throw err;
    const cause = err instanceof Error ? err.message : String(err);
    if (err instanceof CorruptDatabase || /^SQLITE_(CORRUPT|NOTADB)/.test(sqliteCode(err) ?? '')) {
      throw new StoreError('unavailable', corruptMessage(file, cause), { cause: err });
    }
    const reason = faultReason(err, { kind: 'sqlite', location: file });
    throw new StoreError('unavailable', reason ?? `cannot open ${file}: ${cause}`, { cause: err });
  }
}

class CorruptDatabase extends Error {}

/** Refusing to start on a corrupt file: which file, and how to get the data back (docs/security.md). */
export function corruptMessage(file: string, found: string): string {
  return (
    `the database ${file} is corrupt (${found.slice(0, 300)}); Jarvis will not start on it. To recover: ` +
    `keep Jarvis stopped, copy ${file} (with its -wal file, if any) aside, then run ` +
    `sqlite3 ${file} ".recover" | sqlite3 recovered.db and put recovered.db in its place, or restore your last backup ` +
    `(docs/security.md, "The store unavailable, full or corrupt")`
  );
}

/** The directory and the file must be writable: checked first, for a message better than SQLite's "disk I/O error". */
function preflight(file: string, dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new StoreError('unavailable', `cannot create the data directory ${dir} (${(err as Error).message}): create it, or set JARVIS_DATA_DIR to a writable one`, { cause: err });
  }
  for (const [path, what] of [
    [dir, `cannot write in ${dir} (SQLite keeps its database and -wal file there)`],
    [file, `cannot write ${file}`],
    [`${file}-wal`, `cannot write ${file}-wal`],
  ] as const) {
    if (path !== dir && !existsSync(path)) continue;
    try {
      accessSync(path, constants.R_OK | constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'EROFS' ? 'its file system is mounted read-only' : code === 'EPERM' ? 'it is immutable (lsattr/chattr -i) or not permitted' : 'check its owner and permissions';
      throw new StoreError('unavailable', `${what}: ${why} (the user running Jarvis must be able to read and write it)`, { cause: err });
    }
  }
}

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
  const Database = betterSqlite3();
  return new Database(file, { readonly: options.readonly === true }) as unknown as OpenSqlite;
}

/**
 * better-sqlite3 is an optional dependency, so that an install on Node 24 needs no
 * compiler; npm skips it where it finds no prebuilt binary and cannot compile one.
 * On Node 22 that leaves no SQLite: refuse to start, saying how to get one
 * (docs/team.md, "Install").
 */
function betterSqlite3(): typeof BetterSqlite3 {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = err instanceof Error ? err.message : String(err);
    const ways = 'install python3, make and a C++ compiler (Debian: apt-get install python3 make g++) and install Jarvis again, or run Jarvis on Node 24, which has SQLite built in, or set DATABASE_URL to keep the data in Postgres (docs/team.md, "Install")';
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      throw new StoreError('unavailable', `SQLite on Node ${process.versions.node} needs the better-sqlite3 module, and it is not installed (npm skips it when it finds no prebuilt binary for this platform and cannot compile one): ${ways}`, { cause: err });
    }
    // Installed, but its native module does not load: built for another Node (NODE_MODULE_VERSION), or for another system.
    throw new StoreError('unavailable', `better-sqlite3, which Jarvis needs for SQLite on Node ${process.versions.node}, is installed but does not load (${message.split('\n')[0]?.slice(0, 300)}): run \`npm rebuild better-sqlite3\` where Jarvis is installed, or ${ways}`, { cause: err });
  }
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
