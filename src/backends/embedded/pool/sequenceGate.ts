import { abortError } from '../../upstream/abortable.js';
import { BackendError } from '../../types.js';

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Admission to one model's sequences (docs/embedded.md "Parallel requests"):
 * `parallel` requests hold one each, up to `queue` more wait in order, and past
 * those a request is refused at once with `engine_busy` (503, Retry-After) rather
 * than waiting without bound.
 */
export class SequenceGate {
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly parallel: number,
    private readonly queue: number,
    private readonly modelName: string,
  ) {}

  /** Requests holding a sequence, or on their way to one (the model loading). */
  get busy(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  get idle(): boolean {
    return this.active === 0 && this.waiting.length === 0;
  }

  /**
   * Resolves once the request may use a sequence; `leave()` must follow, once.
   * Aborting `signal` leaves the queue. `onQueued` runs when it has to wait.
   */
  enter(signal: AbortSignal, onQueued?: (waiting: number) => void): Promise<void> {
    if (signal.aborted) return Promise.reject(abortError(signal));
    if (this.active < this.parallel) {
      this.active++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.queue) {
      return Promise.reject(
        new BackendError(
          'engine_busy',
          `the embedded engine is busy: ${this.parallel} requests are generating with ${this.modelName} and ${this.queue} more are waiting (JARVIS_EMBEDDED_PARALLEL, JARVIS_EMBEDDED_QUEUE); retry shortly`,
          { fields: { parallel: this.parallel, queue: this.queue } },
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(abortError(signal));
      };
      const waiter: Waiter = {
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      onQueued?.(this.waiting.length);
    });
  }

  /** Frees the place: the first waiter takes it. */
  leave(): void {
    const next = this.waiting.shift();
    if (next) next.resolve();
    else this.active--;
  }

  /** Refuses everyone waiting (the engine is closing). */
  rejectWaiting(err: unknown): void {
    for (const waiter of this.waiting.splice(0)) waiter.reject(err);
  }
}
