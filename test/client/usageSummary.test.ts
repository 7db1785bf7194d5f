import { describe, expect, it } from 'vitest';
import { addDays, describeLimits, formatCount, formatDuration, keyState, limitStates, monthStart, ownSummary, rollUp, utcDay } from '../../src/client/admin/usageSummary.js';
import type { UsageJson, UsageRowJson } from '../../src/shared/team/admin.js';

// Usage and limits in a person's terms (docs/ui.md "Usage"): what the UI's usage panel and the
// admin page show, from the wire shapes of GET /v1/usage and /v1/me.

const row = (day: string, key: string, model: string, prompt: number, completion: number, counted = 0): UsageRowJson => ({
  day,
  owner: key === 'key_b' ? 'bob' : 'alice',
  key_id: key,
  key_name: key === 'key_b' ? 'bob-laptop' : 'alice-laptop',
  model,
  requests: 1 + counted,
  prompt_tokens: prompt,
  completion_tokens: completion,
  stream_ms: 1000,
  sources: { reported: 1, counted },
});

describe('usage in words', () => {
  it('UTC days: a range, a month start, across a month and a year end', () => {
    expect(utcDay(new Date('2026-12-31T23:59:59.999Z'))).toBe('2026-12-31');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(monthStart('2026-12-07')).toBe('2026-12-01');
  });

  it("a person's today and this month, from rows of several days and models", () => {
    const usage: UsageJson = {
      object: 'usage',
      from: '2026-12-01',
      to: '2026-12-07',
      data: [row('2026-12-07', 'key_a', 'llama', 10, 20), row('2026-12-07', 'key_a', 'qwen', 1, 2), row('2026-12-02', 'key_a', 'llama', 100, 200)],
      totals: { requests: 3, prompt_tokens: 111, completion_tokens: 222, stream_ms: 3000 },
    };
    const s = ownSummary(usage, '2026-12-07');
    expect(s.today).toEqual({ requests: 2, prompt_tokens: 11, completion_tokens: 22, stream_ms: 2000 });
    expect(s.month).toEqual({ requests: 3, prompt_tokens: 111, completion_tokens: 222, stream_ms: 3000 });
  });

  it('limits: only those set, in a fixed order; what is left of the daily tokens, never below 0', () => {
    expect(limitStates(null, 5)).toEqual([]);
    const states = limitStates({ tokens_per_day: 100, rpm: 60 }, 30);
    expect(states.map((s) => s.name)).toEqual(['rpm', 'tokens_per_day']);
    expect(states[1]).toMatchObject({ limit: 100, used: 30, left: 70 });
    expect(states[0]).not.toHaveProperty('left');
    expect(limitStates({ tokens_per_day: 100 }, 250)[0]).toMatchObject({ left: 0, used: 250 });
    expect(describeLimits({ rpm: 60, tokens_per_day: 200000 })).toBe('60 requests/min · 200,000 tokens/day');
    expect(describeLimits(null)).toBe('No limits');
    expect(describeLimits({}, 'Default')).toBe('Default');
  });

  it("a key's state: revoked wins over expired; an expiry in the past is expired", () => {
    const now = new Date('2026-12-07T12:00:00Z');
    expect(keyState({ revoked_at: null, expires_at: null }, now)).toBe('active');
    expect(keyState({ revoked_at: null, expires_at: '2026-12-08T00:00:00Z' }, now)).toBe('active');
    expect(keyState({ revoked_at: null, expires_at: '2026-12-07T11:59:59Z' }, now)).toBe('expired');
    expect(keyState({ revoked_at: '2026-12-01T00:00:00Z', expires_at: '2026-12-02T00:00:00Z' }, now)).toBe('revoked');
  });

  it('rolls rows up by key, by model or by day, newest day first, with where the tokens came from', () => {
    const rows = [row('2026-12-06', 'key_a', 'llama', 1, 1), row('2026-12-07', 'key_b', 'llama', 2, 2, 1), row('2026-12-07', 'key_a', 'qwen', 3, 3), row('2026-12-07', 'key_a', 'llama', 4, 4)];
    expect(rollUp(rows, ['day', 'key', 'model']).map((r) => [r.day, r.key_name, r.model])).toEqual([
      ['2026-12-07', 'alice-laptop', 'llama'],
      ['2026-12-07', 'alice-laptop', 'qwen'],
      ['2026-12-07', 'bob-laptop', 'llama'],
      ['2026-12-06', 'alice-laptop', 'llama'],
    ]);
    const byKey = rollUp(rows, ['key']);
    expect(byKey.map((r) => [r.key_name, r.owner, r.prompt_tokens, r.requests, r.reported, r.counted, r.day, r.model])).toEqual([
      ['alice-laptop', 'alice', 8, 3, 3, 0, '', ''],
      ['bob-laptop', 'bob', 2, 2, 1, 1, '', ''],
    ]);
    expect(rollUp(rows, ['model']).map((r) => [r.model, r.completion_tokens])).toEqual([['llama', 7], ['qwen', 3]]);
    expect(rollUp(rows, ['day']).map((r) => [r.day, r.stream_ms])).toEqual([['2026-12-07', 3000], ['2026-12-06', 1000]]);
  });

  it('numbers the same in every locale', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_340)).toBe('12.3 s');
    expect(formatDuration(245_000)).toBe('4 min 05 s');
    expect(formatDuration(7_380_000)).toBe('2 h 03 min');
  });
});
