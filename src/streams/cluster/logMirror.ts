import { abortableSleep as sleep } from '../abortableSleep.js';
import type { MemoryEventLog } from '../eventLog/memoryEventLog.js';
import { cursorOf, encodeItem, encodeTerminal, type Entry } from '../eventLog/redisEntries.js';
import type { RedisEventLog } from '../eventLog/redisEventLog.js';
import { advance, BEFORE_TOKENS, type LogCursor } from '../eventLog/types.js';

export interface MirrorTarget {
  prefix: string;
  streamId: string;
  fence: bigint;
  /** Writes the stream's record back after a Redis wipe; 'taken' when another stream took the session meanwhile. */
  restore(): Promise<'restored' | 'taken'>;
}

export interface MirrorHandlers {
  /** A stop marker refused the tokens: the owner ends the stream (its terminal then goes out with them). */
  stopped(reason: string): void;
  /** Another writer holds the stream now (its lease lapsed and it was recorded lost): stop writing. */
  fenced(): void;
  /** Redis could not be written; the mirror retries (the stream goes on from its memory log). */
  failing(error: string): void;
}

/**
 * Copies one stream's memory log into its Redis log, as a reader of the memory
 * log: each slice (everything new, bounded) is one PUSH script call, so a fast
 * stream costs a few Redis commands per batch of tokens, not one per token, and the
 * producer never waits for Redis. The memory log is the owner's copy: when Redis
 * lost the log (restart without persistence) or holds less than expected, the
 * mirror writes it back under the same entry ids from where Redis is.
 */
export async function mirrorLog(local: MemoryEventLog, remote: RedisEventLog, target: MirrorTarget, handlers: MirrorHandlers, signal: AbortSignal): Promise<void> {
  const { prefix, streamId, fence } = target;
  let cursor: LogCursor = BEFORE_TOKENS;
  let lastId = '1-0';
  // The stream's keys were given liveTtlMs when it was acquired (or restored); extended now and then, not at every batch.
  let ttlRefreshedAt = performance.now();
  restart: while (!signal.aborted) {
    for await (const slice of local.read(streamId, cursor, signal)) {
      const entries: Entry[] = [];
      let c = slice.from;
      for (const item of slice.items) {
        entries.push(encodeItem(item, c));
        c = advance(c, item);
      }
      if (slice.terminal) entries.push(encodeTerminal(slice.terminal, c));
      if (entries.length === 0) continue;
      for (;;) {
        let r;
        const refreshTtl = remote.ttlRefreshDue(ttlRefreshedAt);
        try {
          r = await remote.push(prefix, streamId, fence, lastId, entries, refreshTtl);
        } catch (err) {
          handlers.failing(err instanceof Error ? err.message : String(err));
          await sleep(250, signal);
          if (signal.aborted) return;
          continue;
        }
        switch (r.result) {
          case 'ok':
            if (refreshTtl) ttlRefreshedAt = performance.now();
            lastId = (entries[entries.length - 1] as Entry).id;
            cursor = cursorOf(lastId);
            break;
          case 'rewind':
            lastId = r.lastId === '0-0' ? '1-0' : r.lastId;
            cursor = cursorOf(lastId);
            continue restart;
          case 'gone': {
            let restored;
            try {
              restored = await target.restore();
            } catch (err) {
              handlers.failing(err instanceof Error ? err.message : String(err));
              await sleep(250, signal);
              continue;
            }
            if (restored === 'taken') {
              handlers.fenced();
              return;
            }
            ttlRefreshedAt = performance.now();
            lastId = '1-0';
            cursor = BEFORE_TOKENS;
            continue restart;
          }
          case 'stopped':
            handlers.stopped(r.reason);
            // The stream concludes now; its terminal goes out with the tokens, read again from here.
            await sleep(20, signal);
            continue restart;
          default:
            // fenced, or ended by someone else (recorded lost): this owner writes no more.
            handlers.fenced();
            return;
        }
        break;
      }
      if (slice.terminal) return;
    }
    return;
  }
}
