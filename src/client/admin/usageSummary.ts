// Usage and limits in the terms a person reads them (docs/ui.md "Usage"): today's and this
// month's totals, each limit with what is left of it, a key's state, and rows rolled up by
// day, key or model. Pure functions of the wire shapes (src/shared/team/admin.ts): the UI, the CLI
// and the tests share them. Days are UTC, as Jarvis counts them.

import type { ApiKeyJson, KeyLimits, LimitName, UsageJson, UsageRowJson } from '../../shared/team/admin.js';
import { LIMIT_NAMES } from '../../shared/team/admin.js';

export interface UsageTotals {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  stream_ms: number;
}

/** `YYYY-MM-DD` of `date` in UTC. */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** `day` moved by `days` (negative: back). */
export function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return utcDay(date);
}

/** The first day of `day`'s month. */
export function monthStart(day: string): string {
  return `${day.slice(0, 7)}-01`;
}

export function totalsOf(rows: readonly UsageRowJson[]): UsageTotals {
  const out: UsageTotals = { requests: 0, prompt_tokens: 0, completion_tokens: 0, stream_ms: 0 };
  for (const r of rows) {
    out.requests += r.requests;
    out.prompt_tokens += r.prompt_tokens;
    out.completion_tokens += r.completion_tokens;
    out.stream_ms += r.stream_ms;
  }
  return out;
}

export const tokensOf = (t: Pick<UsageTotals, 'prompt_tokens' | 'completion_tokens'>): number => t.prompt_tokens + t.completion_tokens;

/** One limit as a person reads it: the bound, and for the daily one what today's use leaves of it. */
export interface LimitState {
  name: LimitName;
  /** e.g. "Tokens per day". */
  label: string;
  limit: number;
  /** Only where the usage tells it (tokens per day); the per-minute ones and streams change by the second. */
  used?: number;
  left?: number;
}

const LIMIT_LABELS: Record<LimitName, string> = {
  rpm: 'Requests per minute',
  tpm: 'Tokens per minute',
  max_streams: 'Answers at once',
  tokens_per_day: 'Tokens per day (UTC)',
};

export function limitLabel(name: LimitName): string {
  return LIMIT_LABELS[name];
}

/** The limits set, in a fixed order, with what is left of the daily budget after `todayTokens`. */
export function limitStates(limits: KeyLimits | null | undefined, todayTokens: number): LimitState[] {
  const out: LimitState[] = [];
  for (const name of LIMIT_NAMES) {
    const limit = limits?.[name];
    if (typeof limit !== 'number') continue;
    const state: LimitState = { name, label: LIMIT_LABELS[name], limit };
    if (name === 'tokens_per_day') {
      state.used = todayTokens;
      state.left = Math.max(0, limit - todayTokens);
    }
    out.push(state);
  }
  return out;
}

/** "60 requests/min · 200,000 tokens/day", or `none` when nothing bounds the key. */
export function describeLimits(limits: KeyLimits | null | undefined, none = 'No limits'): string {
  const short: Record<LimitName, string> = { rpm: 'requests/min', tpm: 'tokens/min', max_streams: 'at once', tokens_per_day: 'tokens/day' };
  const parts = LIMIT_NAMES.filter((n) => typeof limits?.[n] === 'number').map((n) => `${formatCount(limits![n]!)} ${short[n]}`);
  return parts.length > 0 ? parts.join(' · ') : none;
}

/** A person's own usage: today's and this month's, from a `/v1/usage` answer that covers the month. */
export function ownSummary(usage: UsageJson, today: string): { today: UsageTotals; month: UsageTotals } {
  const start = monthStart(today);
  return {
    today: totalsOf(usage.data.filter((r) => r.day === today)),
    month: totalsOf(usage.data.filter((r) => r.day >= start && r.day <= today)),
  };
}

export type KeyState = 'active' | 'expired' | 'revoked';

export function keyState(key: Pick<ApiKeyJson, 'revoked_at' | 'expires_at'>, now: Date = new Date()): KeyState {
  if (key.revoked_at) return 'revoked';
  if (key.expires_at && Date.parse(key.expires_at) <= now.getTime()) return 'expired';
  return 'active';
}

export type UsageDimension = 'day' | 'key' | 'model';

/** A row of a roll-up: the dimensions kept (the others are '') and the sums. */
export interface RolledRow extends UsageTotals {
  day: string;
  key_id: string;
  key_name: string;
  owner: string;
  model: string;
  reported: number;
  counted: number;
}

/** `rows` summed over the dimensions not in `by`, newest day first, then by key name and model. */
export function rollUp(rows: readonly UsageRowJson[], by: readonly UsageDimension[]): RolledRow[] {
  const groups = new Map<string, RolledRow>();
  for (const r of rows) {
    const day = by.includes('day') ? r.day : '';
    const keyed = by.includes('key');
    const model = by.includes('model') ? r.model : '';
    const id = JSON.stringify([day, keyed ? r.key_id : '', model]);
    let g = groups.get(id);
    if (!g) {
      g = { day, key_id: keyed ? r.key_id : '', key_name: keyed ? r.key_name : '', owner: keyed ? r.owner : '', model, requests: 0, prompt_tokens: 0, completion_tokens: 0, stream_ms: 0, reported: 0, counted: 0 };
      groups.set(id, g);
    }
    g.requests += r.requests;
    g.prompt_tokens += r.prompt_tokens;
    g.completion_tokens += r.completion_tokens;
    g.stream_ms += r.stream_ms;
    g.reported += r.sources.reported;
    g.counted += r.sources.counted;
  }
  return [...groups.values()].sort((a, b) => b.day.localeCompare(a.day) || a.key_name.localeCompare(b.key_name) || a.key_id.localeCompare(b.key_id) || a.model.localeCompare(b.model));
}

/** 1234567 → "1,234,567" (the same in every locale, as the tests read it). */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Stream time: "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
