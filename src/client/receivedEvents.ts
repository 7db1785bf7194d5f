// The events one response has brought so far, with their arrival times, and waits on
// them: what `jarvis diagnose`/`matrix` (src/diagnostics/live/httpChat.ts) and the tests'
// stream reader (test/helpers/streamReader.ts) both need. Waits are bounded: a test or a
// probe never hangs on an event that does not come (docs/tests.md).

import type { JarvisEvent } from '../shared/events.js';

export interface Arrival<T = JarvisEvent> {
  /** performance.now() at arrival. */
  at: number;
  event: T;
}

/** `T`: the lines of the stream read (chat events by default; the conversation feed's events too). */
export class ReceivedEvents<T extends { type: string } = JarvisEvent> {
  /** The events as they arrived, in order. */
  readonly events: T[] = [];
  /** performance.now() at the arrival of each event of `events`. */
  readonly arrivals: number[] = [];
  private listeners = new Set<(ended: boolean) => void>();
  private ended = false;

  push(event: T): void {
    this.events.push(event);
    this.arrivals.push(performance.now());
    for (const listener of [...this.listeners]) listener(false);
  }

  /** No more events will come: waits that need one give up now instead of at their bound. */
  end(): void {
    this.ended = true;
    for (const listener of [...this.listeners]) listener(true);
  }

  /**
   * The first event matching `predicate` and its arrival time, or undefined once
   * `timeoutMs` has passed (or, with `untilEnd`, the response has ended).
   */
  arrival(predicate: (e: T) => boolean, timeoutMs: number, untilEnd = true): Promise<Arrival<T> | undefined> {
    return new Promise((resolve) => {
      const check = (ended: boolean) => {
        const i = this.events.findIndex(predicate);
        if (i < 0 && !(ended && untilEnd) && !timedOut) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(i < 0 ? undefined : { at: this.arrivals[i]!, event: this.events[i]! });
      };
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        check(this.ended);
      }, timeoutMs);
      this.listeners.add(check);
      check(this.ended);
    });
  }

  /** The first event matching `predicate`; rejects after `timeoutMs`. */
  async waitFor(predicate: (e: T) => boolean, timeoutMs = 10_000): Promise<T> {
    const found = await this.arrival(predicate, timeoutMs, false);
    if (!found) throw new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(this.events.map((e) => e.type))}`);
    return found.event;
  }
}
