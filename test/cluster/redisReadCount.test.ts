import { describe, expect, it } from 'vitest';
import { nextReadCount, type RawEntry } from '../../src/streams/cluster/eventLog/redisEventLog.js';

// A reader of a stream owned by another instance holds its last read from Redis until its
// client reads: the size of a read, not only its count of entries, is bounded
// (docs/security.md "Connections, feed followers and reattach readers").
const entries = (n: number, bytes: number): RawEntry[] => Array.from({ length: n }, (_, i) => [`${i}-0`, ['t', 'x'.repeat(bytes)]]);

describe('reads from a Redis stream log', () => {
  it('ask for as many entries as fit about 256 KiB at the last read size', () => {
    expect(nextReadCount(64, entries(64, 4096))).toBe(63);
    expect(nextReadCount(64, entries(64, 10))).toBe(1024);
    expect(nextReadCount(1024, entries(3, 1 << 20))).toBe(1);
    expect(nextReadCount(17, [])).toBe(17);
  });

  it('keep a read of 4 KB tokens under 300 KB, where it was 4 MB (1024 entries)', () => {
    let count = 64;
    for (let i = 0; i < 5; i++) {
      const read = entries(count, 4096);
      const bytes = read.reduce((n, [, f]) => n + f.join('').length, 0);
      expect(bytes).toBeLessThan(300 * 1024);
      count = nextReadCount(count, read);
    }
  });
});
