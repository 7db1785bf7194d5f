import type { SystemLog } from '../../log/systemLog.js';
import type { StoreError } from '../types.js';

/** What the store reports to whoever watches its health (StoreHealth). */
export interface StoreFaultObserver {
  failed(err: StoreError): void;
  succeeded(): void;
}

/**
 * The store's health, for the log: a fault is logged once per episode
 * (`store_unavailable`, with what to fix), then `store_recovered` with how long it
 * lasted and how many calls failed; never one line per request. Who waits for the
 * store (an answer's final write) is woken as soon as a call succeeds again.
 */
export class StoreHealth implements StoreFaultObserver {
  private downSince: number | undefined;
  private failures = 0;
  private reason = '';
  private wake: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(private readonly log: SystemLog) {}

  get down(): boolean {
    return this.downSince !== undefined;
  }

  failed(err: StoreError): void {
    if (err.code !== 'unavailable') return;
    this.failures++;
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    this.reason = err.message;
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    this.log.error('store_unavailable', { reason: err.message, error: cause === err.message ? undefined : cause?.slice(0, 300) });
  }

  succeeded(): void {
    if (this.downSince === undefined) return;
    this.log.warn('store_recovered', { down_ms: Date.now() - this.downSince, failed_calls: this.failures, first_reason: this.reason });
    this.downSince = undefined;
    this.failures = 0;
    this.reason = '';
    this.wake?.resolve();
    this.wake = undefined;
  }

  /** Resolves once the store answers again (at once when it is not down). */
  recovered(): Promise<void> {
    if (this.downSince === undefined) return Promise.resolve();
    if (!this.wake) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.wake = { promise, resolve };
    }
    return this.wake.promise;
  }
}
