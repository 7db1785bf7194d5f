import { describe, expect, it } from 'vitest';
import { FairQueue, fairOrder, nextTag } from '../../../src/backends/routing/fairQueue.js';

// The start-time fair order (src/backends/routing/fairQueue.ts states the rule).

function drain(queue: FairQueue<string>): string[] {
  const order: string[] = [];
  while (queue.size > 0) order.push(queue.grant(queue.waiters()[0]!.id)!.item);
  return order;
}

describe('FairQueue', () => {
  it("puts a second key's first request second behind another key's burst of 20, not 21st", () => {
    const queue = new FairQueue<string>(100);
    let arrival = 0;
    for (let i = 1; i <= 20; i++) queue.push(`a${i}`, 'A', `a${i}`, ++arrival);
    expect(queue.push('b1', 'B', 'b1', ++arrival)).toBe(2);
    expect(queue.position('b1')).toBe(2);
    expect(drain(queue).slice(0, 4)).toEqual(['a1', 'b1', 'a2', 'a3']);
  });

  it('alternates two keys that each burst, and serves one key in arrival order', () => {
    const queue = new FairQueue<string>(100);
    let arrival = 0;
    for (let i = 1; i <= 3; i++) queue.push(`a${i}`, 'A', `a${i}`, ++arrival);
    for (let i = 1; i <= 3; i++) queue.push(`b${i}`, 'B', `b${i}`, ++arrival);
    expect(drain(queue)).toEqual(['a1', 'b1', 'a2', 'b2', 'a3', 'b3']);
  });

  it('gives a key arriving after some grants a place by V, not at the very front', () => {
    const queue = new FairQueue<string>(100);
    let arrival = 0;
    for (let i = 1; i <= 5; i++) queue.push(`a${i}`, 'A', `a${i}`, ++arrival);
    queue.grant('a1');
    queue.grant('a2');
    expect(queue.virtualTime).toBe(2);
    // tag max(2, 0) + 1 = 3 ties with a3 (tag 3), which arrived first.
    expect(queue.push('b1', 'B', 'b1', ++arrival)).toBe(2);
    expect(drain(queue)).toEqual(['a3', 'b1', 'a4', 'a5']);
  });

  it('is bounded, refuses a second waiter with the same id, and reports positions', () => {
    const queue = new FairQueue<string>(3);
    expect(queue.push('x', 'A', 'x', 1)).toBe(1);
    expect(queue.push('x', 'A', 'x', 2)).toBeUndefined();
    expect(queue.push('y', 'A', 'y', 3)).toBe(2);
    expect(queue.push('z', 'B', 'z', 4)).toBe(2);
    expect(queue.full).toBe(true);
    expect(queue.push('w', 'C', 'w', 5)).toBeUndefined();
    expect(queue.waiters().map((w) => w.id)).toEqual(['x', 'z', 'y']);
    expect(queue.remove('x')?.id).toBe('x');
    expect([queue.position('z'), queue.position('y'), queue.position('x')]).toEqual([1, 2, 0]);
  });

  it("drops an owner's lastTag when its last waiter leaves, so memory follows the waiters", () => {
    const queue = new FairQueue<string>(10_000);
    let arrival = 0;
    for (let round = 0; round < 1000; round++) {
      queue.push(`k${round}`, `owner${round}`, 'x', ++arrival);
      queue.push(`hold${round}`, 'holder', 'x', ++arrival);
      if (round % 2 === 0) queue.remove(`k${round}`);
      else queue.grant(`k${round}`);
      expect(queue.trackedOwners).toBeLessThanOrEqual(queue.size);
    }
    expect(queue.trackedOwners).toBe(1);
    drain(queue);
    expect([queue.trackedOwners, queue.virtualTime]).toEqual([0, 0]);
  });

  it('forgives an aborted request: the key is not held back for it', () => {
    const queue = new FairQueue<string>(100);
    queue.push('a1', 'A', 'a1', 1);
    queue.push('a2', 'A', 'a2', 2);
    queue.remove('a1');
    queue.remove('a2');
    queue.push('b1', 'B', 'b1', 3);
    expect(queue.push('a3', 'A', 'a3', 4)).toBe(2);
    expect(queue.get('a3')?.tag).toBe(1);
  });

  it('exports the rule the Redis ledger keeps', () => {
    expect(nextTag(4, undefined)).toBe(5);
    expect(nextTag(4, 9)).toBe(10);
    expect(fairOrder({ tag: 2, arrival: 9 }, { tag: 3, arrival: 1 })).toBeLessThan(0);
    expect(fairOrder({ tag: 3, arrival: 9 }, { tag: 3, arrival: 1 })).toBeGreaterThan(0);
  });
});
