import { describe, expect, it } from 'vitest';
import { axisTicks, tickLabel } from './axis.js';

// The timeline's axis: ticks never closer than a label's width, whatever the span (a supersede's
// milliseconds, or a report of a log that covers hours or days).
describe('the time axis', () => {
  const start = Date.UTC(2026, 11, 7, 2, 10, 56);
  for (const [name, span] of [['2 s', 2000], ['1 min', 60_000], ['12 h', 12 * 3_600_000], ['9 days', 9 * 86_400_000], ['a year', 365 * 86_400_000]] as const) {
    it(`spaces its ticks at least 90 px apart over ${name} drawn 690 px wide`, () => {
      const { step, ticks } = axisTicks(start, start + span, 690);
      expect(ticks.length).toBeGreaterThan(0);
      expect((step / span) * 690).toBeGreaterThanOrEqual(90);
      expect(ticks.length).toBeLessThanOrEqual(Math.floor(690 / 90) + 1);
    });
  }

  it('labels as precisely as the step', () => {
    const t = new Date(2026, 11, 7, 14, 5, 30, 250).getTime();
    expect(tickLabel(t, 250)).toBe('14:05:30.250');
    expect(tickLabel(t, 5000)).toBe('14:05:30');
    expect(tickLabel(t, 3_600_000)).toBe('14:05');
    expect(tickLabel(t, 86_400_000)).toBe('2026-12-07');
  });
});
