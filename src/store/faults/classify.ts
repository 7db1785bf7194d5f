import { dirname } from 'node:path';
import { StoreError } from '../types.js';

// What a database error means for the operator (docs/security.md, "The store
// unavailable, full or corrupt"): a fault of the store itself (disk full, file
// unwritable, server down) is `unavailable` (503 store_unavailable) with a message
// that says what to fix; anything else is a bug (500).

/** Where the data is, to name it in messages: SQLite's file, or Postgres's URL without password. */
export interface StoreWhere {
  kind: 'sqlite' | 'postgres' | string;
  location: string;
}

/** SQLite's primary result codes (the low byte of an extended code), as node:sqlite reports them. */
const SQLITE_PRIMARY: Record<number, string> = {
  3: 'SQLITE_PERM',
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  8: 'SQLITE_READONLY',
  10: 'SQLITE_IOERR',
  11: 'SQLITE_CORRUPT',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  26: 'SQLITE_NOTADB',
};

/** The SQLite result code's name (`SQLITE_FULL`, `SQLITE_IOERR_WRITE`…) of better-sqlite3 and node:sqlite errors alike. */
export function sqliteCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; errcode?: unknown; errstr?: unknown } | undefined;
  if (typeof e?.code === 'string' && e.code.startsWith('SQLITE_')) return e.code;
  // node:sqlite: code ERR_SQLITE_ERROR, errcode the extended result code.
  if (typeof e?.errcode === 'number') return SQLITE_PRIMARY[e.errcode & 0xff] ?? `SQLITE_${e.errcode}`;
  return undefined;
}

/** Why the store cannot serve, in words that say what to fix; undefined when `err` is no store fault. */
export function faultReason(err: unknown, where: StoreWhere): string | undefined {
  const message = err instanceof Error ? err.message : String(err);
  const sqlite = sqliteCode(err);
  if (sqlite) return sqliteReason(sqlite, where.location);
  const code = (err as { code?: unknown } | undefined)?.code;
  const db = `the Postgres database at ${where.location}`;
  if (typeof code === 'string') {
    if (/^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|EPIPE|ENOENT|EACCES)$/.test(code)) return `cannot reach ${db} (${code}): check that the server is running and reachable`;
    if (/^(ENOTFOUND|EAI_AGAIN)$/.test(code)) return `cannot resolve the host of ${db} (${code}): check DATABASE_URL and DNS`;
    if (code === 'ETIMEDOUT') return `${db} does not answer (connection timed out): check the server and the network`;
    if (code === '53100') return `the disk of ${db} is full: free space on the database server`;
    if (/^53/.test(code)) return `${db} is out of resources (${code} ${message}): check the server`;
    if (/^57P0[123]$/.test(code)) return `${db} is shutting down or restarting (${code}): it is used again as soon as it accepts connections`;
    if (/^08/.test(code)) return `the connection to ${db} failed (${code} ${message}): check the server and the network`;
  }
  // pg's own errors carry no code: the pool's connect timeout, a connection cut, a statement's timeout.
  if (/timeout exceeded when trying to connect|Connection terminated|Query read timeout|connection timeout|Client has encountered a connection error/i.test(message)) {
    return `${db} does not answer (${message}): check that the server is running and reachable`;
  }
  return undefined;
}

function sqliteReason(code: string, file: string): string | undefined {
  const dir = dirname(file);
  if (code.startsWith('SQLITE_FULL')) return `the database's disk is full: free space in ${dir}`;
  if (code === 'SQLITE_READONLY_DIRECTORY' || code === 'SQLITE_READONLY_CANTINIT') return `cannot write in ${dir} (SQLite keeps its -wal file there): check its permissions`;
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_PERM')) return `cannot write ${file}: check its permissions and that its disk is not mounted read-only`;
  if (code.startsWith('SQLITE_IOERR')) return `cannot write ${file} or its -wal file (${code}): check its permissions (and chattr), and that its disk in ${dir} is healthy and not read-only`;
  if (code.startsWith('SQLITE_CANTOPEN')) return `cannot open ${file}: check that ${dir} exists and is writable`;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return `${file} is locked by another process (another Jarvis with the same JARVIS_DATA_DIR?): stop it, or give this one its own JARVIS_DATA_DIR`;
  if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB')) return `${file} is corrupt (${code}): stop Jarvis and recover it (docs/security.md, "The store unavailable, full or corrupt")`;
  return undefined;
}

/** Any failure as a StoreError: a store fault as `unavailable` with what to fix, the rest as `internal`. */
export function toStoreError(err: unknown, context: string, where: StoreWhere): StoreError {
  if (err instanceof StoreError) return err;
  const reason = faultReason(err, where);
  if (reason) return new StoreError('unavailable', reason, { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new StoreError('internal', `${context}: ${message}`, { cause: err });
}
