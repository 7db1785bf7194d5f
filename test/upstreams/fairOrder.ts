/**
 * The fair rule as docs/upstreams.md "Queues" states it, written from that page, so that a test
 * can say which waiter a freed slot must go to and what place each waiter must be told. One
 * queue (one model), every waiter able to use every server:
 *
 *   - an arriving waiter of key k gets tag = max(V, lastTag[k]) + 1; lastTag[k] = tag;
 *   - waiters are served in (tag, arrival) order, and their places are their ranks in it;
 *   - a grant sets V = max(V, its tag);
 *   - a key with no waiter left forgets its lastTag; an empty queue starts again at V = 0.
 *
 * So a key's burst cannot put another key's first request behind all of it: that request's tag
 * is V + 1, level with the burst's first.
 */
export class FairOrder {
  private virtual = 0;
  private arrivals = 0;
  private readonly lastTag = new Map<string, number>();
  private readonly waiting: Array<{ id: string; key: string; tag: number; arrival: number }> = [];

  push(id: string, key: string): void {
    const tag = Math.max(this.virtual, this.lastTag.get(key) ?? 0) + 1;
    this.lastTag.set(key, tag);
    this.waiting.push({ id, key, tag, arrival: ++this.arrivals });
    this.waiting.sort((a, b) => a.tag - b.tag || a.arrival - b.arrival);
  }

  /** The waiters' ids, next first. */
  order(): string[] {
    return this.waiting.map((w) => w.id);
  }

  /** A slot freed: the next waiter takes it (undefined: none waits). */
  grant(): string | undefined {
    const next = this.waiting[0];
    if (!next) return undefined;
    this.virtual = Math.max(this.virtual, next.tag);
    this.take(next.id);
    return next.id;
  }

  /** A waiter gave up. */
  remove(id: string): void {
    this.take(id);
  }

  private take(id: string): void {
    const at = this.waiting.findIndex((w) => w.id === id);
    if (at < 0) return;
    const [gone] = this.waiting.splice(at, 1);
    if (!this.waiting.some((w) => w.key === gone!.key)) this.lastTag.delete(gone!.key);
    if (this.waiting.length === 0) this.virtual = 0;
  }
}

export { seeded } from '../helpers/scenarios/seeded.js';

/** Polls `check` until it holds (every 10 ms, at most `timeoutMs`); the error says what was seen. */
export async function untilTrue(check: () => boolean, seen: () => string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${seen()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
