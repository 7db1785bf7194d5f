import type { LifecycleRecord } from '../../shared/lifecycle.js';

/** One retained record, with its place in the feed and its SSE bytes (encoded once, for every reader). */
export interface RingEntry {
  seq: number;
  record: LifecycleRecord;
  bytes?: Buffer;
}

export interface RingBounds {
  /** Records older than this (by arrival) leave the ring. */
  retainMs: number;
  /** The ring holds at most this many records. */
  retainRecords: number;
}

/**
 * The ops feed's recent records (docs/observability.md "The feed"): a circular buffer bounded
 * by count and by age. Sequence numbers are consecutive, so a reader's position is an index.
 * They start from the clock, so an id a reader kept from before a restart falls outside the
 * new range (and the reader gets a reset) rather than naming a different record.
 */
export class OpsRing {
  private readonly slots: Array<RingEntry | undefined>;
  private readonly arrived: Float64Array;
  private head = 0;
  private count = 0;
  /** The seq of the oldest retained record (when count > 0); `last + 1` when empty. */
  private first: number;

  constructor(
    private readonly bounds: RingBounds,
    private readonly now: () => number = Date.now,
    startSeq: number = Date.now(),
  ) {
    this.slots = new Array<RingEntry | undefined>(bounds.retainRecords);
    this.arrived = new Float64Array(bounds.retainRecords);
    this.first = startSeq;
  }

  /** The seq of the newest record (one below the first when none was ever pushed). */
  get lastSeq(): number {
    return this.first + this.count - 1;
  }

  get firstSeq(): number {
    return this.first;
  }

  get size(): number {
    return this.count;
  }

  push(record: LifecycleRecord): RingEntry {
    this.expire();
    const capacity = this.slots.length;
    if (this.count === capacity) this.dropOldest();
    const entry: RingEntry = { seq: this.first + this.count, record };
    const at = (this.head + this.count) % capacity;
    this.slots[at] = entry;
    this.arrived[at] = this.now();
    this.count++;
    return entry;
  }

  /** The entry with this seq, if retained. */
  at(seq: number): RingEntry | undefined {
    const offset = seq - this.first;
    if (offset < 0 || offset >= this.count) return undefined;
    return this.slots[(this.head + offset) % this.slots.length];
  }

  /** Whether a reader that has seen up to `seq` can go on from the ring (nothing it missed has left it). */
  holdsAfter(seq: number): boolean {
    return seq >= this.first - 1 && seq <= this.lastSeq;
  }

  /** Every retained record, oldest first. */
  records(): LifecycleRecord[] {
    this.expire();
    const out: LifecycleRecord[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.slots[(this.head + i) % this.slots.length]!.record);
    return out;
  }

  /** Drops the records past their age. */
  expire(): void {
    const cutoff = this.now() - this.bounds.retainMs;
    while (this.count > 0 && this.arrived[this.head]! < cutoff) this.dropOldest();
  }

  private dropOldest(): void {
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.slots.length;
    this.count--;
    this.first++;
  }
}
