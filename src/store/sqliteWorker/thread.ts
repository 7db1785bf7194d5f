import type { Worker } from 'node:worker_threads';
import { startWorkerThread } from '../../workerThread.js';
import type { SystemLog } from '../../log/systemLog.js';
import { StoreError } from '../types.js';
import { fromWire, type FromThread, type QueryAnswer, type Request, type ThreadData, type ToThread } from './protocol.js';

/** What opening the file found, for the start-up log line. */
export interface ThreadOpened {
  checkMs: number | undefined;
  sizeBytes: number;
}

export interface SqliteThreadOptions {
  /** `PRAGMA quick_check` before serving (JARVIS_STORE_QUICK_CHECK; on by default). */
  quickCheck?: boolean;
  /** Where a thread that stops unexpectedly is reported. */
  log?: Pick<SystemLog, 'error' | 'warn'>;
}

/** How long close() waits for the thread to close the file before ending it. */
const CLOSE_WAIT_MS = 5000;

interface Pending {
  resolve(answer: QueryAnswer): void;
  reject(err: Error): void;
}

/**
 * The thread that holds Jarvis's one SQLite connection (worker.ts), seen from the
 * event loop: query() sends a statement and its parameters, and resolves with the
 * rows. The thread runs what it is sent in order; driver.ts sends one statement at
 * a time, as Kysely does with its own one connection.
 *
 * A thread that stops unexpectedly (out of memory, a crash in the driver) fails
 * every query sent to it, and is started again once, so a single accident costs
 * only the queries it was running; if the new one stops too, or cannot open the
 * file, every later query fails with why (503 store_unavailable), until a restart.
 */
export class SqliteThread {
  /** Bumped with each thread: a transaction begun on an earlier one cannot go on on this one. */
  epoch = 0;
  /** Known once the first thread has opened the file. */
  opened: ThreadOpened | undefined;
  private worker: Worker | undefined;
  private ready: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private restarts = 0;
  private closed = false;
  /** Why no thread runs any more, once it is for good. */
  private gone: StoreError | undefined;

  constructor(
    readonly file: string,
    private readonly options: SqliteThreadOptions = {},
  ) {
    this.ready = this.start();
  }

  /** Resolves once the file is open; rejects with why it could not be (a StoreError that says what to fix). */
  whenOpen(): Promise<void> {
    return this.ready;
  }

  /** Runs one statement; with `begin`, opens a transaction first, in the same message. */
  async query(sql: string, parameters: readonly unknown[], begin = false): Promise<QueryAnswer> {
    if (this.closed) throw new StoreError('unavailable', 'the store is closed');
    // A thread started again meanwhile: wait for that one to open the file.
    for (let ready = this.ready; ; ready = this.ready) {
      await ready;
      if (ready === this.ready) break;
    }
    const worker = this.worker;
    if (!worker) throw this.gone ?? new StoreError('unavailable', `the SQLite thread that holds ${this.file} is not running: restart Jarvis`);
    return this.send(worker, begin ? { kind: 'query', sql, parameters, begin } : { kind: 'query', sql, parameters });
  }

  /** Closes the file, then the thread. The driver calls it once nothing else is queued (driver.ts). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const open = await this.ready.then(
      () => true,
      () => false,
    );
    const worker = this.worker;
    if (!worker) return;
    // A thread that could not open the file is ending by itself: nothing to close.
    if (!open) {
      await worker.terminate();
      return;
    }
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([this.send(worker, { kind: 'close' }).then(() => exited), new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
    } catch (err) {
      this.options.log?.warn('store_close_failed', { error: err instanceof Error ? err.message : String(err) });
    } finally {
      clearTimeout(timer);
      this.worker = undefined;
      await worker.terminate();
    }
  }

  private send(worker: Worker, message: Request): Promise<QueryAnswer> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      worker.postMessage({ ...message, id } as ToThread);
      // While an answer is owed the process waits for it (a final write at exit); idle, the thread holds nothing open.
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
    });
  }

  private settle(message: Extract<FromThread, { id: number }>): void {
    const job = this.pending.get(message.id);
    if (!job) return;
    this.pending.delete(message.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (message.kind === 'answer') job.resolve(message.answer);
    else job.reject(fromWire(message.error));
  }

  private start(): Promise<void> {
    const worker = startWorker({ file: this.file, quickCheck: this.options.quickCheck !== false });
    worker.unref();
    this.worker = worker;
    this.epoch++;
    let open = false;
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: FromThread) => {
        if (message.kind === 'opened') {
          open = true;
          this.opened ??= { checkMs: message.checkMs, sizeBytes: message.sizeBytes };
          resolve();
        } else if (message.kind === 'open_failed') {
          reject(fromWire(message.error));
        } else {
          this.settle(message);
        }
      });
      const stopped = (why: string) => {
        reject(new StoreError('unavailable', `the SQLite thread stopped before it opened ${this.file} (${why})`));
        this.stopped(worker, why, open);
      };
      // What crosses from a thread is a copy: its error may arrive as a plain object.
      worker.on('error', (err: unknown) => stopped(err instanceof Error ? err.message : JSON.stringify(err)));
      worker.on('exit', (code) => stopped(`it exited with code ${code}`));
    });
    // Who queries awaits it; unawaited, a failed open must not be an unhandled rejection.
    ready.catch(() => {});
    return ready;
  }

  private stopped(worker: Worker, why: string, wasOpen: boolean): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const restart = !this.closed && wasOpen && this.restarts < 1;
    const what = `the SQLite thread that holds ${this.file} stopped unexpectedly (${why})`;
    const error = new StoreError('unavailable', `${what}; ${restart ? 'a new one is opening it' : 'restart Jarvis'} (docs/security.md, "Searches and the store")`);
    for (const job of this.pending.values()) job.reject(error);
    this.pending.clear();
    if (this.closed || !wasOpen) return;
    this.options.log?.error('store_thread_stopped', { file: this.file, why, restarting: restart });
    if (restart) {
      this.restarts++;
      this.ready = this.start();
    } else {
      this.gone = error;
    }
  }
}

/** The thread runs worker.js next to this file (worker.ts from the sources: src/workerThread.ts). */
function startWorker(data: ThreadData): Worker {
  return startWorkerThread(import.meta.url, 'worker', { workerData: data });
}
