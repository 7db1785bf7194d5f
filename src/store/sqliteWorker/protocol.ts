import { StoreError } from '../types.js';

// The messages between the store (driver.ts, on the event loop) and the thread that
// owns Jarvis's one SQLite connection (worker.ts). Everything crosses by structured
// clone: numbers, bigints, strings and null as they are; a Buffer arrives as a
// Uint8Array (driver.ts makes it a Buffer again); an Error loses its own
// properties, so errors cross as WireError and are rebuilt.

/** What the thread opens: workerData. */
export interface ThreadData {
  file: string;
  quickCheck: boolean;
}

/** `begin`: a transaction's first statement, run after `begin` in the same message (driver.ts). */
export type Request = { kind: 'query'; sql: string; parameters: readonly unknown[]; begin?: true } | { kind: 'close' };
export type ToThread = Request & { id: number };

export interface QueryAnswer {
  rows: Array<Record<string, unknown>>;
  /** Writes only, as Kysely's SqliteConnection gives them. */
  numAffectedRows?: bigint;
  insertId?: bigint;
}

/** An error as it crosses: its message, its driver's codes (better-sqlite3's `code`, node:sqlite's `errcode`/`errstr`), or a StoreError's code. */
export interface WireError {
  message: string;
  code?: string;
  errcode?: number;
  errstr?: string;
  storeCode?: StoreError['code'];
}

export type FromThread =
  | { kind: 'opened'; checkMs: number | undefined; sizeBytes: number }
  | { kind: 'open_failed'; error: WireError }
  | { kind: 'answer'; id: number; answer: QueryAnswer }
  | { kind: 'failed'; id: number; error: WireError };

export function toWire(err: unknown): WireError {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof StoreError) return { message, storeCode: err.code };
  const e = err as { code?: unknown; errcode?: unknown; errstr?: unknown } | undefined;
  return {
    message,
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(typeof e?.errcode === 'number' ? { errcode: e.errcode } : {}),
    ...(typeof e?.errstr === 'string' ? { errstr: e.errstr } : {}),
  };
}

/** The error again, with the codes classify.ts reads (`code`, `errcode`), so a full disk is still a 503 that says so. */
export function fromWire(wire: WireError): Error {
  if (wire.storeCode) return new StoreError(wire.storeCode, wire.message);
  const err = new Error(wire.message) as Error & { code?: string; errcode?: number; errstr?: string };
  if (wire.code !== undefined) err.code = wire.code;
  if (wire.errcode !== undefined) err.errcode = wire.errcode;
  if (wire.errstr !== undefined) err.errstr = wire.errstr;
  return err;
}
