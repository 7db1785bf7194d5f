import type { KeyLimits } from '../../shared/team/admin.js';
import type { SystemLog } from '../../log/systemLog.js';
import { DAY_MS, MINUTE_MS, dayString, rateLimited, secondsLeft, type DaySeed, type LimitGrant, type Limiter } from './limiter.js';

/** One key's counters: this minute's requests and tokens, today's tokens, its live streams. */
interface Counters {
  minute: number;
  requests: number;
  tokens: number;
  /** The UTC day `dayTokens` counts; -1 before it was read from the usage record. */
  day: number;
  dayTokens: number;
  /** While today's figure is read from the usage record. */
  seeding: Promise<void> | undefined;
  streams: Set<string>;
}

/** Keys idle for this long lose their counters (today's tokens are read again from the record). */
const SWEEP_MS = 5 * MINUTE_MS;

/**
 * One process's limits: a key's counters in a map, swept of keys idle for a few minutes
 * (so it holds only the keys in use; today's tokens are read again from the usage
 * record when such a key comes back). rpm and tpm count per clock minute, tokens_per_day
 * per UTC day (docs/team.md "Usage and limits").
 */
export class MemoryLimiter implements Limiter {
  private readonly keys = new Map<string, Counters>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly seed: DaySeed,
    private readonly log: SystemLog,
  ) {
    this.sweeper = setInterval(() => this.sweep(Date.now()), SWEEP_MS);
    this.sweeper.unref();
  }

  async admit(keyId: string, limits: KeyLimits, streamId: string): Promise<LimitGrant> {
    let k = this.keys.get(keyId);
    if (!k) {
      k = { minute: 0, requests: 0, tokens: 0, day: -1, dayTokens: 0, seeding: undefined, streams: new Set() };
      this.keys.set(keyId, k);
    }
    if (limits.tokens_per_day !== undefined) await this.seeded(keyId, k);
    const now = Date.now();
    this.roll(k, now);
    let tokensLeft: number | undefined;
    if (limits.tokens_per_day !== undefined) {
      if (k.dayTokens >= limits.tokens_per_day) throw rateLimited('tokens_per_day', limits.tokens_per_day, secondsLeft(now, DAY_MS));
      tokensLeft = limits.tokens_per_day - k.dayTokens;
    }
    if (limits.rpm !== undefined && k.requests >= limits.rpm) throw rateLimited('rpm', limits.rpm, secondsLeft(now, MINUTE_MS));
    if (limits.tpm !== undefined && k.tokens >= limits.tpm) throw rateLimited('tpm', limits.tpm, secondsLeft(now, MINUTE_MS));
    if (limits.max_streams !== undefined && k.streams.size >= limits.max_streams) throw rateLimited('max_streams', limits.max_streams, 1);
    k.requests++;
    k.streams.add(streamId);
    const counters = k;
    let ended = false;
    return {
      tokensLeft,
      end: (tokens) => {
        if (ended) return;
        ended = true;
        counters.streams.delete(streamId);
        this.roll(counters, Date.now());
        counters.tokens += tokens;
        counters.dayTokens += tokens;
      },
    };
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  /** Today's tokens read from the usage record, once a day per key (concurrent requests wait for the one read). */
  private async seeded(keyId: string, k: Counters): Promise<void> {
    const today = Math.floor(Date.now() / DAY_MS);
    while (k.day !== today) {
      if (!k.seeding) {
        k.seeding = this.seed(dayString(today), keyId)
          .catch((err: unknown) => {
            // Counted from zero rather than refusing every request while the store is down.
            this.log.warn('usage_seed_failed', { key: keyId, error: err instanceof Error ? err.message : String(err) });
            return 0;
          })
          .then((used) => {
            k.day = today;
            k.dayTokens = used;
          })
          .finally(() => (k.seeding = undefined));
      }
      await k.seeding;
    }
  }

  /** A new minute starts its counts at zero; a new day's tokens are read again. */
  private roll(k: Counters, now: number): void {
    const minute = Math.floor(now / MINUTE_MS);
    if (k.minute !== minute) {
      k.minute = minute;
      k.requests = 0;
      k.tokens = 0;
    }
    if (k.day !== -1 && k.day !== Math.floor(now / DAY_MS)) k.day = -1;
  }

  private sweep(now: number): void {
    const minute = Math.floor(now / MINUTE_MS);
    for (const [keyId, k] of this.keys) {
      if (k.streams.size === 0 && !k.seeding && minute - k.minute >= SWEEP_MS / MINUTE_MS) this.keys.delete(keyId);
    }
  }
}
