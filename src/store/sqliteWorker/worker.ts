import { parentPort, workerData } from 'node:worker_threads';
import type { SqliteDatabase } from 'kysely';
import { openSqliteFile } from '../faults/sqliteOpen.js';
import { toWire, type FromThread, type QueryAnswer, type ThreadData, type ToThread } from './protocol.js';

// The thread that owns Jarvis's one SQLite connection (driver.ts starts it). SQLite
// reads and writes synchronously; here they hold this thread, never the event loop
// that streams answers. It opens the file as the process did (faults/sqliteOpen.ts:
// exclusive lock, WAL, no memory mapping, quick_check), then runs each query it is
// sent, in order, as Kysely's own SqliteConnection does.

const { file, quickCheck } = workerData as ThreadData;
const port = parentPort!;
const send = (message: FromThread) => port.postMessage(message);

let db: SqliteDatabase | undefined;
try {
  const opened = openSqliteFile(file, { quickCheck });
  db = opened.db;
  send({ kind: 'opened', checkMs: opened.checkMs, sizeBytes: opened.sizeBytes });
} catch (err) {
  // Nothing will listen on the port: the thread ends after saying why.
  send({ kind: 'open_failed', error: toWire(err) });
}

type Statement = ReturnType<SqliteDatabase['prepare']>;

/**
 * Prepared statements by their SQL, the most recently used kept: Kysely builds the
 * same text for the same query, and an answer's flush, a turn's start or a key
 * check runs the same few statements again and again. Preparing each anew was the
 * largest part of this thread's work (docs/architecture.md, "Well-kept libraries").
 */
const STATEMENTS_KEPT = 200;
const statements = new Map<string, Statement>();

function prepared(db: SqliteDatabase, sql: string): Statement {
  let stmt = statements.get(sql);
  if (stmt) {
    // Most recently used last: the first in the map is the one to drop.
    statements.delete(sql);
  } else {
    stmt = db.prepare(sql);
    if (statements.size >= STATEMENTS_KEPT) statements.delete(statements.keys().next().value as string);
  }
  statements.set(sql, stmt);
  return stmt;
}

function run(db: SqliteDatabase, sql: string, parameters: readonly unknown[]): QueryAnswer {
  const stmt = prepared(db, sql);
  if (stmt.reader) return { rows: stmt.all(parameters) as QueryAnswer['rows'] };
  const { changes, lastInsertRowid } = stmt.run(parameters);
  return {
    rows: [],
    ...(changes !== undefined && changes !== null ? { numAffectedRows: BigInt(changes) } : {}),
    ...(lastInsertRowid !== undefined && lastInsertRowid !== null ? { insertId: BigInt(lastInsertRowid) } : {}),
  };
}

if (db) {
  const conn = db;
  port.on('message', (message: ToThread) => {
    if (message.kind === 'close') {
      try {
        statements.clear();
        conn.close();
        send({ kind: 'answer', id: message.id, answer: { rows: [] } });
      } catch (err) {
        send({ kind: 'failed', id: message.id, error: toWire(err) });
      }
      port.close();
      return;
    }
    try {
      // A transaction's `begin` comes with its first statement (driver.ts): one message, not two.
      if (message.begin) run(conn, 'begin', []);
      send({ kind: 'answer', id: message.id, answer: run(conn, message.sql, message.parameters) });
    } catch (err) {
      send({ kind: 'failed', id: message.id, error: toWire(err) });
    }
  });
}
