import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';
import { StoreError } from '../types.js';
import type { SqliteThread } from './thread.js';

/**
 * Kysely's SQLite dialect, with the one connection on its own thread (thread.ts):
 * the compiler, adapter and introspector are Kysely's own; the driver sends each
 * compiled statement to the thread and gives back what Kysely's SqliteConnection
 * would (`rows`; `numAffectedRows` and `insertId` of a write, as bigints).
 */
export class ThreadSqliteDialect implements Dialect {
  constructor(readonly thread: SqliteThread) {}

  createDriver(): Driver {
    return new ThreadSqliteDriver(this.thread);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

/**
 * As Kysely's SqliteDriver: one connection, lent to one caller at a time (a query,
 * or a whole transaction, `begin`…`commit` as SQL), the others waiting in turn.
 */
class ThreadSqliteDriver implements Driver {
  private readonly turns = new Turns();
  private readonly connection: ThreadConnection;

  constructor(private readonly thread: SqliteThread) {
    this.connection = new ThreadConnection(thread);
  }

  async init(): Promise<void> {
    await this.thread.whenOpen();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.turns.take();
    return this.connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin'));
    this.connection.transactionEpoch = this.thread.epoch;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await connection.executeQuery(CompiledQuery.raw('commit'));
    } finally {
      this.connection.transactionEpoch = undefined;
    }
  }

  /**
   * On SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY… SQLite has already rolled the
   * transaction back itself; ROLLBACK then fails with "cannot rollback - no
   * transaction is active", and that error must not replace the real one (a full
   * disk reported as a 500).
   */
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await connection.executeQuery(CompiledQuery.raw('rollback'));
    } catch (err) {
      if (!/no transaction is active|SQLite thread/i.test(err instanceof Error ? err.message : String(err))) throw err;
    } finally {
      this.connection.transactionEpoch = undefined;
    }
  }

  async releaseConnection(): Promise<void> {
    this.turns.give();
  }

  /** Waits for every query already queued (an answer's final writes at shutdown), then closes the file and ends the thread. */
  async destroy(): Promise<void> {
    await this.turns.take();
    try {
      await this.thread.close();
    } finally {
      this.turns.give();
    }
  }
}

class ThreadConnection implements DatabaseConnection {
  /** Set while a transaction is open: the thread it began on. */
  transactionEpoch: number | undefined;

  constructor(private readonly thread: SqliteThread) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    // A thread started again has no transaction: the statements left of one begun on the old thread must not run on their own.
    if (this.transactionEpoch !== undefined && this.transactionEpoch !== this.thread.epoch) {
      throw new StoreError('unavailable', 'the SQLite thread stopped during this transaction, which was rolled back; retry');
    }
    const answer = await this.thread.query(compiledQuery.sql, compiledQuery.parameters);
    return { ...answer, rows: (BLOBS_AS_BUFFERS ? answer.rows.map(withBuffers) : answer.rows) as R[] };
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    // Jarvis streams no query; this keeps Kysely's interface, a page at once.
    yield await this.executeQuery<R>(compiledQuery);
  }
}

/** better-sqlite3 (Node 20, 22) gives a BLOB as a Buffer, node:sqlite (Node 24+) as a Uint8Array (faults/sqliteOpen.ts). */
const BLOBS_AS_BUFFERS = Number(process.versions.node.split('.')[0]) < 24;

/** A BLOB comes across as a Uint8Array: a Buffer again, as better-sqlite3 gave it. */
function withBuffers(row: Record<string, unknown>): Record<string, unknown> {
  for (const key in row) {
    const value = row[key];
    if (value instanceof Uint8Array && !Buffer.isBuffer(value)) row[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return row;
}

/** Turns at the one connection, first come first served (Kysely's SqliteDriver keeps a mutex alike). */
class Turns {
  private busy = false;
  private readonly waiting: Array<() => void> = [];

  take(): Promise<void> {
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.busy = false;
  }
}
