import { describe, expect, it } from 'vitest';
import type { StatusEvent, TerminalEvent } from '../../src/shared/events.js';
import { MemoryEventLog } from '../../src/streams/eventLog/memoryEventLog.js';

// The memory log's text budget, shared fairly between keys (docs/security.md
// "Retained answers and storage"): one key's answers evict its own ended logs,
// never those of a key within its share, and its appends get 'full' first.

const FENCE = 3n;
let counter = 0;
const status = (id: string): StatusEvent => ({ type: 'status', status: 'thinking', stream_id: id, session_id: `s-${id}`, trace_id: id, model: 'm' });
const done = (id: string): TerminalEvent => ({ type: 'done', reason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 1 }, stream_id: id, session_id: `s-${id}` });

/** A log of `owner` with `chars` of text; ended unless `live`. Returns its id and what its appends answered. */
function answer(log: MemoryEventLog, owner: string, chars: number, live = false): { id: string; results: string[] } {
  const id = `${owner}-${counter++}`;
  log.create(status(id), owner, FENCE);
  const results: string[] = [];
  for (let left = chars; left > 0; left -= 10) results.push(log.append(id, 'x'.repeat(Math.min(10, left)), FENCE));
  if (!live) log.finish(id, done(id), FENCE);
  return { id, results };
}

describe('the memory log budget, per key', () => {
  it("key A's 34 large answers do not evict key B's retained answer; A's own ended answers go first", async () => {
    const log = new MemoryEventLog({ retentionMs: 60_000, maxCharsPerStream: 100, maxTotalChars: 400 });
    const b = answer(log, 'bob', 50);
    const a: string[] = [];
    for (let i = 0; i < 34; i++) {
      const r = answer(log, 'alice', 90);
      expect(r.results.every((x) => x === 'ok')).toBe(true);
      a.push(r.id);
    }
    expect(await log.info(b.id)).toBeDefined();
    // A's answers made room by evicting A's own, oldest first: its latest ones are there.
    expect(await log.info(a[0]!)).toBeUndefined();
    expect(await log.info(a[33]!)).toBeDefined();
    expect(log.budget.total).toBeLessThanOrEqual(400);
    await log.close();
  });

  it("A's live answers get 'full' while B, within its share, still appends; B's retained answer stays", async () => {
    const log = new MemoryEventLog({ retentionMs: 60_000, maxCharsPerStream: 100, maxTotalChars: 400 });
    const b = answer(log, 'bob', 50);
    // Two keys: a share of 200 each; what B does not use of its share is kept for B, not lent to A.
    const live = [0, 1, 2, 3].map(() => answer(log, 'alice', 100, true));
    expect(live.flatMap((l) => l.results)).toContain('full');
    const full = live.find((l) => l.results.includes('full'))!;
    // A holds about its share (200), never the room kept for B.
    expect(log.budget.total).toBeLessThanOrEqual(400 - 150 + 10);
    // B, under its share, gets room for a whole answer.
    const b2 = answer(log, 'bob', 100);
    expect(b2.results.every((x) => x === 'ok')).toBe(true);
    expect(await log.info(b.id)).toBeDefined();
    expect(await log.info(full.id)).toBeDefined(); // the refused live log is still readable (its stream decides what 'full' means)
    await log.close();
  });

  it('a key alone may use the whole budget; its ended answers go when another key needs its share', async () => {
    const log = new MemoryEventLog({ retentionMs: 60_000, maxCharsPerStream: 100, maxTotalChars: 400 });
    const a = [0, 1, 2, 3].map(() => answer(log, 'alice', 100));
    expect(log.budget.total).toBe(400);
    const b = answer(log, 'bob', 100);
    expect(b.results.every((x) => x === 'ok')).toBe(true);
    expect(await log.info(a[0]!.id)).toBeUndefined();
    expect(await log.info(a[3]!.id)).toBeDefined();
    await log.close();
  });

  it('a configured per-key share: keys within it keep their answers, the rest is first come', async () => {
    const log = new MemoryEventLog({ retentionMs: 60_000, maxCharsPerStream: 100, maxTotalChars: 400, keyShareChars: 50 });
    expect(log.budget.fairShare).toBe(50);
    const b = answer(log, 'bob', 40);
    // Carol, far over her share of 50, holds the most: her ended answers go first, even for Alice's.
    const c = [0, 1, 2].map(() => answer(log, 'carol', 100));
    const a = [0, 1].map(() => answer(log, 'alice', 50));
    expect(a.flatMap((x) => x.results).every((x) => x === 'ok')).toBe(true);
    expect(await log.info(b.id)).toBeDefined();
    expect(await log.info(c[0]!.id)).toBeUndefined();
    expect(await log.info(c[2]!.id)).toBeDefined();
    expect(await log.info(a[0]!.id)).toBeDefined();
    await log.close();
  });

  it("the count bound takes the oldest ended log of the key with the most, not another key's", async () => {
    const log = new MemoryEventLog({ retentionMs: 60_000, maxEndedLogs: 3 });
    const b = answer(log, 'bob', 5);
    const a = [0, 1, 2, 3, 4].map(() => answer(log, 'alice', 5));
    expect(await log.info(b.id)).toBeDefined();
    expect(await log.info(a[0]!.id)).toBeUndefined();
    expect(await log.info(a[4]!.id)).toBeDefined();
    await log.close();
  });
});
