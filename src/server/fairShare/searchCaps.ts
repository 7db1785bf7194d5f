import { HttpError } from '../errors.js';

/** Whole seconds a refused search is told to wait: a search takes milliseconds to seconds. */
const RETRY_AFTER_S = 1;

/**
 * Searches one client may have running at once (JARVIS_MAX_SEARCHES_PER_CLIENT): per API
 * key, or per address without keys (as the stream caps count). Searches
 * of SQLite take turns at its one connection (store/sqliteWorker/, store/search/turn.ts), so a
 * key that sends twenty at a time would make every other key's search, and every write, wait behind them; with this
 * bound it waits for its own, and the rest get a 429 at once.
 */
export class SearchCaps {
  private readonly running = new Map<string, number>();

  constructor(private readonly perKey: number) {}

  /** Admits one search for `client` (clientKeyOf: the key, else the address), or throws 429; call the returned release once, when it has answered. */
  admit(client: string): () => void {
    const mine = this.running.get(client) ?? 0;
    if (mine >= this.perKey) {
      throw new HttpError(429, 'too_many_searches', `this key already has ${mine} searches running, the most allowed (JARVIS_MAX_SEARCHES_PER_CLIENT); wait for them to answer, then retry`, null, {
        'retry-after': String(RETRY_AFTER_S),
      });
    }
    this.running.set(client, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.running.get(client) ?? 1) - 1;
      if (left > 0) this.running.set(client, left);
      else this.running.delete(client);
    };
  }
}
