import { HttpError } from '../errors.js';

/** Whole seconds a refused client is told to wait: an image fetch takes at most seconds. */
const RETRY_AFTER_S = 1;

/**
 * The requests fetching images at once: at most `perKey` of one key (the owner,
 * src/server/guards/principal.ts) and `max` in all. A request holds one slot while
 * it fetches its images, one after another, so it has at most one GET open. A
 * request over a bound is refused at once (429, Retry-After) rather than queued:
 * a queue would hold its body, and its client's connection, for an unknown time.
 */
export class ImageFetchGate {
  private total = 0;
  private readonly perOwner = new Map<string, number>();

  constructor(private readonly bounds: { fetchesPerKey: number; fetchesMax: number }) {}

  /** A slot for `owner`, or a 429; call the returned release once, when the request's fetches are over. */
  acquire(owner: string): () => void {
    const mine = this.perOwner.get(owner) ?? 0;
    if (mine >= this.bounds.fetchesPerKey) {
      this.refuse(`this key is already fetching images for ${mine} requests, the most allowed (JARVIS_IMAGE_FETCHES_PER_KEY); retry shortly or send the images as data: URLs`);
    }
    if (this.total >= this.bounds.fetchesMax) {
      this.refuse(`Jarvis is already fetching images for ${this.total} requests, its maximum (JARVIS_IMAGE_FETCHES_MAX); retry shortly or send the images as data: URLs`);
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

  /** Requests fetching now, all keys together. */
  get size(): number {
    return this.total;
  }

  private refuse(message: string): never {
    throw new HttpError(429, 'too_many_image_fetches', message, null, { 'retry-after': String(RETRY_AFTER_S) });
  }
}
