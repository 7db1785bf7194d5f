import { describe, expect, it } from 'vitest';
import { isoNow } from '../../src/server/protocols/ollama/timings.js';

// `created_at` is formatted once a second and its milliseconds appended by hand: it must
// read exactly as Date's own ISO text, at every millisecond of a second and across the
// boundaries where the date changes.
describe("Ollama API's created_at", () => {
  it('reads as toISOString at every millisecond, across seconds, minutes, days and years', () => {
    const starts = [Date.UTC(2026, 11, 31, 23, 59, 58, 990), Date.UTC(2024, 1, 29, 12, 0, 0, 0), 0, Date.now()];
    for (const start of starts) {
      for (let ms = start; ms < start + 2_500; ms++) expect(isoNow(ms)).toBe(new Date(ms).toISOString());
    }
  });

  it('goes back and forth between instants (replies on different milliseconds interleave)', () => {
    const a = Date.UTC(2026, 5, 1, 10, 0, 0, 7);
    const b = Date.UTC(2026, 5, 1, 10, 0, 1, 70);
    for (const ms of [a, b, a, a, b, b + 1, a + 993, b]) expect(isoNow(ms)).toBe(new Date(ms).toISOString());
  });

  it('is the wall clock when not told an instant', () => {
    const before = Date.now();
    const text = isoNow();
    const after = Date.now();
    const at = Date.parse(text);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(after);
  });
});
