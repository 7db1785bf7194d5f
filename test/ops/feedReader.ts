import http from 'node:http';
import { createParser } from 'eventsource-parser';
import { afterEach } from 'vitest';
import { OPS_FEED_PATH, type LifecycleRecord } from '../../src/shared/lifecycle.js';

export interface FeedEntry {
  id: number;
  record: LifecycleRecord;
}

/** What one reader of the ops feed received, in order: records, resets and comments, as parsed from the SSE bytes. */
export type FeedItem = { kind: 'record'; entry: FeedEntry } | { kind: 'reset' } | { kind: 'comment'; text: string };

/**
 * A reader of `GET /v1/admin/ops/events` over plain HTTP, parsing the server-sent events itself
 * (as EventSource does): what the /ops page is given.
 */
export class FeedReader {
  readonly items: FeedItem[] = [];
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  /** A refused request's body. */
  body = '';
  readonly ended: Promise<void>;
  private endedResolve!: () => void;
  private req: http.ClientRequest | undefined;
  private res: http.IncomingMessage | undefined;
  // The same parser the page reads the feed with (src/client/timeline/opsFeed.ts).
  private readonly parser = createParser({
    onEvent: (e) => {
      if (e.event === 'reset') this.items.push({ kind: 'reset' });
      else if (e.event === 'record') this.items.push({ kind: 'record', entry: { id: Number(e.id), record: JSON.parse(e.data) as LifecycleRecord } });
    },
    onComment: (text) => this.items.push({ kind: 'comment', text: text.trim() }),
  });
  private waiters: Array<() => void> = [];

  private constructor() {
    this.ended = new Promise((resolve) => (this.endedResolve = resolve));
  }

  static open(baseUrl: string, headers: Record<string, string> = {}): Promise<FeedReader> {
    const reader = new FeedReader();
    return new Promise((resolve, reject) => {
      const req = http.get(`${baseUrl}${OPS_FEED_PATH}`, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        reader.res = res;
        reader.status = res.statusCode ?? 0;
        reader.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => reader.take(chunk));
        res.on('close', () => reader.finish());
        res.on('error', () => reader.finish());
        resolve(reader);
      });
      req.on('error', (err) => {
        reader.finish();
        reject(err);
      });
      reader.req = req;
    });
  }

  get records(): FeedEntry[] {
    return this.items.flatMap((i) => (i.kind === 'record' ? [i.entry] : []));
  }

  get lastId(): number | undefined {
    return this.records.at(-1)?.id;
  }

  close(): void {
    this.req?.destroy();
  }

  pause(): void {
    this.res?.pause();
  }

  /** Resolves with the first record (already received or to come) that `predicate` accepts. */
  async waitFor(predicate: (r: LifecycleRecord) => boolean, what = 'a record', timeoutMs = 15_000): Promise<FeedEntry> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.records.find((e) => predicate(e.record));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${what} in the ops feed within ${timeoutMs} ms; got ${this.records.map((e) => e.record.event).join(' ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private take(chunk: string): void {
    this.parser.feed(chunk);
    if (this.status !== 200) this.body += chunk;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private finish(): void {
    this.endedResolve();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** The records of one stream (by `trace`, or `stream_id` for readers), in feed order. */
export function ofStream(entries: FeedEntry[], id: string): FeedEntry[] {
  return entries.filter((e) => e.record.fields.trace === id || e.record.fields.stream_id === id);
}

/** Opens feed readers for a test and closes them after it (register it after the Jarvis's own afterEach: hooks run last first). */
export function feedReaders(): ((url: string, headers?: Record<string, string>) => Promise<FeedReader>) & { readers: FeedReader[] } {
  const readers: FeedReader[] = [];
  afterEach(() => {
    for (const r of readers.splice(0)) r.close();
  });
  const open = async (url: string, headers: Record<string, string> = {}) => {
    const r = await FeedReader.open(url, headers);
    readers.push(r);
    return r;
  };
  return Object.assign(open, { readers });
}
