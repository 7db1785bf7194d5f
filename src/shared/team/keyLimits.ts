// Limits per key (docs/team.md "Usage and limits"): the checks and the words a refusal
// or a cut answer uses. Protocol-neutral, free of Node- or DOM-only imports: the
// configuration, the server and the admin API read the same rules.

import { LIMIT_NAMES, type KeyLimits, type LimitName } from './admin.js';

/** The largest figure a limit takes: past it, write no limit at all. */
export const MAX_LIMIT = 1_000_000_000_000;

/**
 * `value` as KeyLimits, or the reason it is not one: an object whose fields are
 * among rpm, tpm, max_streams and tokens_per_day, each a whole number of at least 1
 * (a field left out, or null, is no bound).
 */
export function checkKeyLimits(value: unknown): { limits: KeyLimits } | { error: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'must be a JSON object like {"rpm":60,"tokens_per_day":200000}' };
  const limits: KeyLimits = {};
  for (const [name, figure] of Object.entries(value as Record<string, unknown>)) {
    if (!(LIMIT_NAMES as readonly string[]).includes(name)) return { error: `"${name.slice(0, 40)}" is not a limit (the limits are ${LIMIT_NAMES.join(', ')})` };
    if (figure === null) continue;
    if (typeof figure !== 'number' || !Number.isInteger(figure) || figure < 1 || figure > MAX_LIMIT) {
      return { error: `${name} must be a whole number from 1 to ${MAX_LIMIT}, got ${JSON.stringify(figure)?.slice(0, 40)}` };
    }
    limits[name as LimitName] = figure;
  }
  return { limits };
}

/** Whether `limits` bounds anything at all. */
export function hasLimits(limits: KeyLimits | null | undefined): limits is KeyLimits {
  return !!limits && LIMIT_NAMES.some((name) => limits[name] !== undefined);
}

/** What a limit allows, in words: "60 requests a minute (rpm)". */
export function limitWords(name: LimitName, value: number): string {
  switch (name) {
    case 'rpm':
      return `${value} ${value === 1 ? 'request' : 'requests'} a minute (rpm)`;
    case 'tpm':
      return `${value} tokens a minute (tpm)`;
    case 'max_streams':
      return `${value} ${value === 1 ? 'answer' : 'answers'} streaming at once (max_streams)`;
    case 'tokens_per_day':
      return `${value} tokens a day, UTC (tokens_per_day)`;
  }
}

/** The words of a refusal: "this key may make 60 requests a minute (rpm); try again in 12 s". */
export function refusalWords(name: LimitName, value: number, retryAfterS: number): string {
  const verb = name === 'rpm' ? 'make' : name === 'max_streams' ? 'have' : 'use';
  const when = name === 'max_streams' ? `try again once one of them has ended (in ${retryAfterS} s or later)` : `try again in ${retryAfterS} s`;
  return `this key may ${verb} ${limitWords(name, value)}; ${when}`;
}

/** The words of an answer cut at the day's budget. */
export function budgetWords(value: number): string {
  return `the answer stopped at this key's budget of ${limitWords('tokens_per_day', value)}; more tokens are available after midnight UTC`;
}
