import { sleep } from '../../../shared/sleep.js';
import type { MemoryEventLog } from '../../eventLog/memoryEventLog.js';
import { cursorOf, encodeItem, encodeTerminal, type Entry } from './redisEntries.js';
import type { RedisEventLog } from './redisEventLog.js';
import { advance, BEFORE_TOKENS, type LogCursor } from '../../eventLog/types.js';

export interface MirrorTarget {
  prefix: string;
  streamId: string;
  fence: bigint;
  /** Writes the stream's record back after a Redis wipe; 'taken' when another stream took the session meanwhile. */
  restore(): Promise<'restored' | 'taken'>;
  /**
   * The signal that asks the mirror to check its Redis log now, read anew before each pass: a
   * mirror waiting for the next token (or done but for a rewrite) would not see a wipe until then.
   */
  recheck?(): AbortSignal;
  /** Start with that check (a stream that ended, written back after a wipe). */
  checkFirst?: boolean;
}

export interface MirrorHandlers {
  /** A stop marker refused the tokens: the owner ends the stream (its terminal then goes out with them). */
  stopped(reason: string): void;
  /** Another writer holds the stream now (its lease lapsed and it was recorded lost): stop writing. */
  fenced(): void;
  /** Redis could not be written; the mirror retries (the stream goes on from its memory log). */
  failing(error: string): void;
  /** The stream's record was written back after a wipe; its log follows. */
  restored?(): void;
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

  /** Writes `entries` (none: only checks where Redis is): 'ok', 'restart' (from `cursor`, set anew) or 'end' (write no more). */
  const write = async (entries: Entry[]): Promise<'ok' | 'restart' | 'end'> => {
    for (;;) {
      let r;
      const refreshTtl = entries.length > 0 && remote.ttlRefreshDue(ttlRefreshedAt);
      try {
        r = await remote.push(prefix, streamId, fence, lastId, entries, refreshTtl);
      } catch (err) {
        handlers.failing(err instanceof Error ? err.message : String(err));
        await sleep(250, signal);
        if (signal.aborted) return 'end';
        continue;
      }
      switch (r.result) {
        case 'ok':
          if (refreshTtl) ttlRefreshedAt = performance.now();
          if (entries.length > 0) lastId = (entries[entries.length - 1] as Entry).id;
          cursor = cursorOf(lastId);
          return 'ok';
        case 'rewind':
          lastId = r.lastId === '0-0' ? '1-0' : r.lastId;
          cursor = cursorOf(lastId);
          return 'restart';
        case 'gone': {
          let restored;
          try {
            restored = await target.restore();
          } catch (err) {
            handlers.failing(err instanceof Error ? err.message : String(err));
            await sleep(250, signal);
            if (signal.aborted) return 'end';
            continue;
          }
          if (restored === 'taken') {
            handlers.fenced();
            return 'end';
          }
          handlers.restored?.();
          ttlRefreshedAt = performance.now();
          lastId = '1-0';
          cursor = BEFORE_TOKENS;
          return 'restart';
        }
        case 'stopped':
          handlers.stopped(r.reason);
          // The stream concludes now; its terminal goes out with the tokens, read again from here.
          await sleep(20, signal);
          return 'restart';
        default:
          // fenced, or ended by someone else (recorded lost): this owner writes no more.
          handlers.fenced();
          return 'end';
      }
    }
  };

  let check = target.checkFirst === true;
  restart: while (!signal.aborted) {
    if (check) {
      check = false;
      if ((await write([])) === 'end') return;
    }
    const recheck = target.recheck?.();
    for await (const slice of local.read(streamId, cursor, recheck ? AbortSignal.any([signal, recheck]) : signal)) {
      const entries: Entry[] = [];
      let c = slice.from;
      for (const item of slice.items) {
        entries.push(encodeItem(item, c));
        c = advance(c, item);
      }
      if (slice.terminal) entries.push(encodeTerminal(slice.terminal, c));
      if (entries.length === 0) continue;
      const outcome = await write(entries);
      if (outcome === 'end') return;
      if (outcome === 'restart') continue restart;
      if (slice.terminal) return;
    }
    if (recheck?.aborted && !signal.aborted) {
      check = true;
      continue;
    }
    return;
  }
}
