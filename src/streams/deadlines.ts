/**
 * A deadline: `fire` runs once `at` (a `performance.now()` time) has passed,
 * unless it is cleared or moved first. Its owner keeps it and passes it back.
 */
export interface Deadline {
  at: number;
  fire(): void;
  /** Its place in the heap; -1 while not set. */
  index: number;
}

/**
 * Every stream's deadlines (its first-token wait, its stall limit, its maximum
 * duration: docs/limits.md) on one timer, armed for the earliest. A timer per
 * stream costs a Timeout object and a place in one of Node's timer lists (one
 * per distinct duration) for each open stream; here a stream holds its Deadline
 * and a slot in one array (docs/benchmark.md "Scale"). A deadline fires at its
 * time or just after, as a timer would (never before); the ones due together
 * fire in the order of their times.
 */
export class Deadlines {
  /** A binary min-heap on `at`. */
  private readonly heap: Deadline[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the timer is armed to fire (Infinity: not armed). */
  private armedAt = Infinity;

  get size(): number {
    return this.heap.length;
  }

  /** Sets (or moves) `deadline` to `at`. */
  set(deadline: Deadline, at: number): void {
    if (deadline.index >= 0) this.remove(deadline);
    deadline.at = at;
    deadline.index = this.heap.length;
    this.heap.push(deadline);
    this.up(deadline.index);
    this.arm();
  }

  clear(deadline: Deadline): void {
    if (deadline.index < 0) return;
    this.remove(deadline);
    // The timer is left armed: firing early with nothing due costs one look at the heap.
    if (this.heap.length === 0) this.disarm();
  }

  private readonly sweep = (): void => {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = performance.now();
    for (let top = this.heap[0]; top !== undefined && top.at <= now; top = this.heap[0]) {
      this.remove(top);
      top.fire();
    }
    this.arm();
  };

  private arm(): void {
    const top = this.heap[0];
    if (!top || top.at >= this.armedAt) return;
    clearTimeout(this.timer);
    this.armedAt = top.at;
    // +1: a timer may fire up to a millisecond before its delay by performance.now().
    this.timer = setTimeout(this.sweep, Math.max(0, top.at - performance.now()) + 1);
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
  }

  private remove(deadline: Deadline): void {
    const heap = this.heap;
    const at = deadline.index;
    const last = heap.pop()!;
    deadline.index = -1;
    if (last === deadline) return;
    heap[at] = last;
    last.index = at;
    this.up(at);
    this.down(last.index);
  }

  private up(i: number): void {
    const heap = this.heap;
    const item = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = heap[parent]!;
      if (above.at <= item.at) break;
      heap[i] = above;
      above.index = i;
      i = parent;
    }
    heap[i] = item;
    item.index = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const item = heap[i]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && heap[right]!.at < heap[left]!.at ? right : left;
      const below = heap[child]!;
      if (below.at >= item.at) break;
      heap[i] = below;
      below.index = i;
      i = child;
    }
    heap[i] = item;
    item.index = i;
  }
}

/** The deadlines of every stream of this process. */
export const streamDeadlines = new Deadlines();
