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

  /**
   * `begin` goes with the transaction's first statement, in one message to the thread
   * (a turn's start is a transaction of a few statements, each a round trip through a
   * busy event loop: docs/benchmark.md, "Capacity").
   */
  async beginTransaction(): Promise<void> {
    this.connection.beginPending = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    // No statement ran: no transaction was opened.
    if (this.connection.beginPending) {
      this.connection.beginPending = false;
      return;
    }
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
    if (this.connection.beginPending) {
      this.connection.beginPending = false;
      return;
    }
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
  /** A transaction was begun and no statement has run in it yet: `begin` goes with the first. */
  beginPending = false;

  constructor(private readonly thread: SqliteThread) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const begin = this.beginPending;
    if (begin) {
      this.beginPending = false;
      this.transactionEpoch = this.thread.epoch;
    } else if (this.transactionEpoch !== undefined && this.transactionEpoch !== this.thread.epoch) {
      // A thread started again has no transaction: the statements left of one begun on the old thread must not run on their own.
      throw new StoreError('unavailable', 'the SQLite thread stopped during this transaction, which was rolled back; retry');
    }
    const answer = await this.thread.query(compiledQuery.sql, compiledQuery.parameters, begin);
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
