import type { KeyLimits, LimitName } from '../../shared/team/admin.js';
import { hasLimits } from '../../shared/team/keyLimits.js';
import { httpError, type HttpError } from '../errors.js';
import type { Principal } from '../http/guards/principal.js';

// Limits per key (docs/team.md "Usage and limits"): rpm, tpm, max_streams and tokens_per_day,
// checked once when a model request starts, counted once when it ends. One process keeps
// the counters in memory (memoryLimiter.ts); a cluster keeps them in Redis (redisLimiter.ts).

/** A request let in under its key's limits. */
export interface LimitGrant {
  /** Tokens the key may still use today (tokens_per_day); undefined: no daily bound. */
  tokensLeft: number | undefined;
  /** At the request's end (once): frees its place under max_streams, adds the tokens it used to tpm and tokens_per_day. */
  end(tokens: number): void;
}

export interface Limiter {
  /** Lets a request of `keyId` in under `limits`, or throws the 429 (`rate_limited`) naming the limit it would break. */
  admit(keyId: string, limits: KeyLimits, streamId: string): Promise<LimitGrant>;
  /** Shutdown: stops its timers and frees what it holds (best effort). */
  close(): Promise<void>;
}

/** A grant that bounds nothing: a caller without limits. */
export const UNLIMITED: LimitGrant = { tokensLeft: undefined, end: () => {} };

/** What to start a day's tokens_per_day counter from: the usage record's figure for that day and key. */
export type DaySeed = (day: string, keyId: string) => Promise<number>;

/**
 * The limits that bound a caller: its key's own, else JARVIS_DEFAULT_LIMITS for a
 * non-admin. An admin is unlimited unless its own key has limits; without
 * authentication nothing is limited.
 */
export function effectiveLimits(caller: Principal, defaults: KeyLimits | undefined): KeyLimits | undefined {
  if (!caller) return undefined;
  const limits = caller.limits ?? (caller.admin ? undefined : defaults);
  return hasLimits(limits) ? limits : undefined;
}

/** The 429 of a limit: its name, its figure and the wait in words, and `Retry-After`. */
export function rateLimited(limit: LimitName, value: number, retryAfterS: number): HttpError {
  const seconds = Math.max(1, Math.ceil(retryAfterS));
  return httpError('rate_limited', { limit, value, retryAfterS: seconds }, { headers: { 'retry-after': String(seconds), 'x-jarvis-limit': limit } });
}

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** A UTC day number (days since 1970-01-01) as `YYYY-MM-DD`. */
export function dayString(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Today's UTC day as `YYYY-MM-DD`: the day usage is recorded under and `tokens_per_day` counts. */
export function today(now = Date.now()): string {
  return dayString(Math.floor(now / DAY_MS));
}

/** Seconds from `now` (ms) to the end of its window of `windowMs`. */
export function secondsLeft(now: number, windowMs: number): number {
  return Math.ceil((Math.floor(now / windowMs + 1) * windowMs - now) / 1000);
}
