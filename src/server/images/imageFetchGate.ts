import { httpError } from '../errors.js';

/** Whole seconds a refused client is told to wait: an image fetch takes at most seconds. */
const RETRY_AFTER_S = 1;
const RETRY = { headers: { 'retry-after': String(RETRY_AFTER_S) } };

/**
 * The requests with fetched images: at most `fetchesPerClient` of one key (the owner,
 * src/server/http/guards/principal.ts) and `fetchesMax` in all. A request holds one slot
 * from its first fetch until its response closes (its fetched bytes live that long)
 * and fetches its images one after another, so it has at most one GET open. A
 * request over a bound is refused at once (429, Retry-After) rather than queued:
 * a queue would hold its body, and its client's connection, for an unknown time.
 */
export class ImageFetchGate {
  private total = 0;
  private readonly perOwner = new Map<string, number>();

  constructor(private readonly bounds: { fetchesPerClient: number; fetchesMax: number }) {}

  /** A slot for `owner`, or a 429; call the returned release once, when the request's fetches are over. */
  acquire(owner: string): () => void {
    const mine = this.perOwner.get(owner) ?? 0;
    if (mine >= this.bounds.fetchesPerClient) {
      throw httpError('too_many_image_fetches', { held: mine }, RETRY);
    }
    if (this.total >= this.bounds.fetchesMax) {
      throw httpError('too_many_image_fetches', { held: this.total, all: true }, RETRY);
    }
    this.total++;
    this.perOwner.set(owner, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perOwner.get(owner) ?? 1) - 1;
      if (left > 0) this.perOwner.set(owner, left);
      else this.perOwner.delete(owner);
    };
  }

  /** Requests holding a slot now, all keys together. */
  get size(): number {
    return this.total;
  }
}
