import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SearchReply, SearchRequest } from './worker.js';
import { StoreError, type ConversationPage, type ListQuery } from '../types.js';

/** A search (waiting included) that takes longer than this fails: JARVIS_SEARCH_TIMEOUT_MS's default. */
export const SEARCH_TIMEOUT_MS = 10_000;

interface Job {
  request: SearchRequest;
  resolve(page: ConversationPage): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * SQLite searches, off the event loop: better-sqlite3 (and node:sqlite) read
 * synchronously, and a search that scans hundreds of MB held the loop for seconds
 * (every stream's tokens and /health with it). One worker thread runs them one at
 * a time, each within its deadline: a search still waiting at its deadline fails;
 * one still running is stopped by ending the thread (SQLite has no other way to
 * stop a statement from outside), and the next search starts a new one.
 */
export class SearchThread {
  private worker: Worker | undefined;
  private running: Job | undefined;
  private readonly waiting: Job[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly timeoutMs = SEARCH_TIMEOUT_MS,
  ) {}

  search(owner: string, { signal, ...query }: ListQuery): Promise<ConversationPage> {
    if (this.closed) return Promise.reject(new StoreError('unavailable', 'the store is closed'));
    if (signal?.aborted) return Promise.reject(new StoreError('unavailable', 'the client went away'));
    return new Promise((resolve, reject) => {
      const job: Job = { request: { id: this.nextId++, owner, query }, resolve, reject, timer: setTimeout(() => this.expire(job), this.timeoutMs) };
      // A search its client no longer waits for gives its turn up (the web UI drops the last one at each key).
      signal?.addEventListener('abort', () => this.drop(job), { once: true });
      this.waiting.push(job);
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const gone = new StoreError('unavailable', 'the store closed during the search');
    for (const job of [...this.waiting, ...(this.running ? [this.running] : [])]) this.settle(job, gone);
    this.waiting.length = 0;
    this.running = undefined;
    await this.stopWorker();
  }

  private pump(): void {
    if (this.running || this.closed) return;
    const job = this.waiting.shift();
    if (!job) return;
    this.running = job;
    this.ensureWorker().postMessage(job.request);
  }

  private drop(job: Job): void {
    const at = this.waiting.indexOf(job);
    if (at < 0) return;
    this.waiting.splice(at, 1);
    this.settle(job, new StoreError('unavailable', 'the client went away'));
  }

  private expire(job: Job): void {
    const seconds = this.timeoutMs / 1000;
    this.settle(job, new StoreError('unavailable', `the search took longer than ${seconds} s (JARVIS_SEARCH_TIMEOUT_MS) and was stopped; try a longer, more specific text`));
    const at = this.waiting.indexOf(job);
    if (at >= 0) {
      this.waiting.splice(at, 1);
      return;
    }
    if (this.running === job) {
      this.running = undefined;
      void this.stopWorker();
      // The next thread starts now, not when the next search comes: its start-up is not that search's time.
      if (!this.closed) this.ensureWorker();
      this.pump();
    }
  }

  private settle(job: Job, outcome: ConversationPage | Error): void {
    clearTimeout(job.timer);
    if (outcome instanceof Error) job.reject(outcome);
    else job.resolve(outcome);
  }

  private onReply(reply: SearchReply): void {
    const job = this.running;
    if (!job || job.request.id !== reply.id) return;
    this.running = undefined;
    if ('page' in reply) this.settle(job, reply.page);
    else if (reply.error.storeCode) this.settle(job, new StoreError(reply.error.storeCode, reply.error.message));
    // The driver's error code (SQLITE_BUSY…) goes along, for the store to classify.
    else this.settle(job, Object.assign(new Error(reply.error.message), { code: reply.error.code }));
    this.pump();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker(this.file);
    worker.on('message', (reply: SearchReply) => this.onReply(reply));
    // A thread that fails (out of memory, a crash) fails its search; the next starts a new one.
    const failed = (err: unknown) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const job = this.running;
      this.running = undefined;
      // What crosses from a thread is a copy: a driver's error may arrive as a plain object.
      const reason = err instanceof Error ? err.message : JSON.stringify(err);
      if (job) this.settle(job, new StoreError('unavailable', `the search thread failed: ${reason}`));
      this.pump();
    };
    worker.on('error', failed);
    worker.on('exit', (code) => failed(new Error(`it exited (${code})`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private async stopWorker(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }
}

/**
 * The worker runs worker.js next to this file, as built; from the TypeScript
 * sources (the tests, `npm run dev`), the worker registers tsx first, as the process did.
 */
function startWorker(file: string): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here), { workerData: { file } });
  const tsx = pathToFileURL(join(dirname(createRequire(here).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const entry = new URL('./worker.ts', here).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`, { eval: true, workerData: { file } });
}
