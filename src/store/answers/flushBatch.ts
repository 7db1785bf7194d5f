import type { AnswerFlush, ConversationStore } from '../types.js';

/**
 * One clock for every answer's periodic write (docs/architecture.md, "How an answer
 * outlives its connection"): an answer with text not stored yet asks for the next tick, and one timer for
 * all of them fires `intervalMs` after the first ask, so the answers due together are
 * written together. Each answer is still written at most `intervalMs` after its text came.
 */
export class FlushTicker {
  private readonly due = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {}

  /** Runs `flush` at the next tick, once however often it is asked. */
  request(flush: () => void): void {
    this.due.add(flush);
    this.timer ??= setTimeout(this.fire, this.intervalMs);
  }

  cancel(flush: () => void): void {
    this.due.delete(flush);
    // Nothing left to write: no timer holds the process (a shutdown would wait for it).
    if (this.due.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const due = [...this.due];
    this.due.clear();
    for (const flush of due) flush();
  };
}

interface Queued {
  flush: AnswerFlush;
  resolve(written: boolean): void;
  reject(err: unknown): void;
}

/**
 * The progress writes asked for in one synchronous step (a tick of FlushTicker), sent
 * to the store as one `flushAnswers` call: on SQLite one statement instead of a message
 * to its thread and a statement per answer, which was most of what a conversation
 * answer cost beyond a plain stream (docs/benchmark.md, "Capacity").
 */
export class FlushBatch {
  private queued: Queued[] = [];

  constructor(private readonly store: Pick<ConversationStore, 'flushAnswers'>) {}

  /** Whether this answer was written (as `flushAnswers` says); rejects when the whole write failed. */
  write(flush: AnswerFlush): Promise<boolean> {
    return new Promise((resolve, reject) => {
      if (this.queued.length === 0) queueMicrotask(this.send);
      this.queued.push({ flush, resolve, reject });
    });
  }

  private readonly send = (): void => {
    const batch = this.queued;
    this.queued = [];
    this.store.flushAnswers(batch.map((q) => q.flush)).then(
      (written) => {
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(written[i] === true);
      },
      (err: unknown) => {
        for (const q of batch) q.reject(err);
      },
    );
  };
}
