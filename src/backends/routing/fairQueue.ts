/**
 * One queue's waiters in start-time fair order (docs/upstreams.md "Queues"), so that one
 * key's burst cannot push another key's first request behind all of it.
 *
 * THE RULE (the Redis ledger, src/streams/cluster/upstreams/, keeps the same one in Lua;
 * change both together):
 *
 *   - V is the queue's virtual time: 0 for a new (or emptied) queue; when a waiter is
 *     granted, V = max(V, its tag). (Max, not "the granted tag": a waiter may be granted
 *     out of order when only it can use the freed server, and V never goes back.)
 *   - lastTag[owner] is the tag last given to one of the owner's waiters in this queue.
 *   - An arriving waiter gets tag = max(V, lastTag[owner] ?? 0) + 1, and lastTag[owner] = tag.
 *   - Waiters are ordered by (tag, arrival), arrival being a number that grows with every
 *     acquire (the caller's counter, one for the whole ledger). A waiter's position is its
 *     1-based rank in that order.
 *   - When an owner's last waiter leaves the queue (granted, aborted or timed out), its
 *     lastTag entry is dropped. After a grant that is exact (its tag ≤ V, so max(V, lastTag)
 *     would be V anyway); after an abort it forgives the aborted request's place (a key is not
 *     held back for requests it gave up). So lastTag never holds more owners than waiters.
 *   - An emptied queue is forgotten (V back to 0): with no waiter and no lastTag every tag is
 *     relative to V, so nothing changes.
 *
 * Bound: within one owner's busy run (from its first waiter to the moment it has none), its
 * i-th waiter W has tag ≤ V_at_arrival + i, so at most i - 1 waiters of another owner that
 * arrived after W are granted before W (they get tags > V_at_arrival, one per tag, and those
 * tagged ≥ tag(W) come after it). test/backends/routing/ledgerSchedule.test.ts checks it.
 */

export interface FairWaiter<T> {
  readonly id: string;
  readonly owner: string;
  readonly tag: number;
  readonly arrival: number;
  readonly item: T;
}

/** The order of the rule: by tag, then by arrival. */
export function fairOrder(a: { tag: number; arrival: number }, b: { tag: number; arrival: number }): number {
  return a.tag - b.tag || a.arrival - b.arrival;
}

/** The tag an arriving waiter gets (the rule above). */
export function nextTag(virtualTime: number, lastTag: number | undefined): number {
  return Math.max(virtualTime, lastTag ?? 0) + 1;
}

export class FairQueue<T> {
  private virtual = 0;
  private readonly lastTag = new Map<string, number>();
  /** Waiters of each owner now in the queue: when it falls to 0 the owner's lastTag goes. */
  private readonly perOwner = new Map<string, number>();
  /** In fair order; bounded by `bound`, so the linear insert and remove stay cheap. */
  private readonly order: FairWaiter<T>[] = [];
  private readonly byId = new Map<string, FairWaiter<T>>();

  constructor(readonly bound: number) {}

  get size(): number {
    return this.order.length;
  }

  get full(): boolean {
    return this.order.length >= this.bound;
  }

  /** V, for tests and for explaining the Redis ledger's state. */
  get virtualTime(): number {
    return this.virtual;
  }

  /** Owners with a lastTag entry (never more than the waiters). */
  get trackedOwners(): number {
    return this.lastTag.size;
  }

  /** The waiters in fair order (position = index + 1). Do not change the queue while walking it. */
  waiters(): readonly FairWaiter<T>[] {
    return this.order;
  }

  get(id: string): FairWaiter<T> | undefined {
    return this.byId.get(id);
  }

  /** 1-based rank in fair order; 0 when not queued. */
  position(id: string): number {
    const waiter = this.byId.get(id);
    return waiter ? this.order.indexOf(waiter) + 1 : 0;
  }

  /**
   * Queues a waiter and returns its position, or undefined when the queue is full (or the
   * id already waits). `arrival` must grow with every call across the queues compared with each other.
   */
  push(id: string, owner: string, item: T, arrival: number): number | undefined {
    if (this.full || this.byId.has(id)) return undefined;
    const tag = nextTag(this.virtual, this.lastTag.get(owner));
    const waiter: FairWaiter<T> = { id, owner, tag, arrival, item };
    this.lastTag.set(owner, tag);
    this.perOwner.set(owner, (this.perOwner.get(owner) ?? 0) + 1);
    this.byId.set(id, waiter);
    let at = this.order.length;
    while (at > 0 && fairOrder(this.order[at - 1]!, waiter) > 0) at--;
    this.order.splice(at, 0, waiter);
    return at + 1;
  }

  /** The first waiter in fair order that `accepts`, if any. */
  first(accepts: (waiter: FairWaiter<T>) => boolean): FairWaiter<T> | undefined {
    for (const waiter of this.order) if (accepts(waiter)) return waiter;
    return undefined;
  }

  /** The waiter got its slot: it leaves, and V moves up to its tag. */
  grant(id: string): FairWaiter<T> | undefined {
    const waiter = this.take(id);
    if (waiter) this.virtual = Math.max(this.virtual, waiter.tag);
    this.forgetIfEmpty();
    return waiter;
  }

  /** The waiter gave up (abort, timeout, shutdown): it leaves without a slot; V stays. */
  remove(id: string): FairWaiter<T> | undefined {
    const waiter = this.take(id);
    this.forgetIfEmpty();
    return waiter;
  }

  private take(id: string): FairWaiter<T> | undefined {
    const waiter = this.byId.get(id);
    if (!waiter) return undefined;
    this.byId.delete(id);
    this.order.splice(this.order.indexOf(waiter), 1);
    const left = (this.perOwner.get(waiter.owner) ?? 1) - 1;
    if (left > 0) {
      this.perOwner.set(waiter.owner, left);
    } else {
      this.perOwner.delete(waiter.owner);
      this.lastTag.delete(waiter.owner);
    }
    return waiter;
  }

  private forgetIfEmpty(): void {
    if (this.order.length === 0) this.virtual = 0;
  }
}
