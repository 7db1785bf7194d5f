import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import { StoreError } from '../types.js';

/** A search that has not started by then fails: JARVIS_SEARCH_TIMEOUT_MS's default. */
export const SEARCH_TIMEOUT_MS = 10_000;

/**
 * Runs a search in its turn at SQLite's one connection (sqliteWorker/), bounded in
 * waiting: a search that has not started within `timeoutMs` fails (503), and one
 * whose client went away gives its turn up; either way it runs nothing when its
 * turn comes. A search that has started runs to its end: SQLite stops a statement
 * only from its own thread, and better-sqlite3 offers no way to ask it to
 * (docs/security.md, "Searches and the store"). The whole search (its page, then
 * its snippets) is one turn.
 */
export function searchInTurn<T>(db: Kysely<Database>, timeoutMs: number, signal: AbortSignal | undefined, run: (conn: Kysely<Database>) => Promise<T>): Promise<T> {
  if (signal?.aborted) return Promise.reject(new StoreError('unavailable', 'the client went away'));
  return new Promise<T>((resolve, reject) => {
    let state: 'waiting' | 'running' | 'gone' = 'waiting';
    const giveUp = (err: Error) => {
      if (state !== 'waiting') return;
      state = 'gone';
      clearTimeout(timer);
      signal?.removeEventListener('abort', left);
      reject(err);
    };
    const seconds = timeoutMs / 1000;
    const timer = setTimeout(
      () =>
        giveUp(
          new StoreError(
            'unavailable',
            `the search could not start within ${seconds} s (JARVIS_SEARCH_TIMEOUT_MS): the database was busy with other searches and writes; retry, or search a longer, more specific text`,
          ),
        ),
      timeoutMs,
    );
    const left = () => giveUp(new StoreError('unavailable', 'the client went away'));
    signal?.addEventListener('abort', left, { once: true });
    db.connection()
      .execute(async (conn) => {
        if (state === 'gone') return;
        state = 'running';
        clearTimeout(timer);
        signal?.removeEventListener('abort', left);
        resolve(await run(conn));
      })
      .catch((err: Error) => (state === 'running' ? reject(err) : giveUp(err)));
  });
}
