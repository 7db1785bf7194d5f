import type { SystemLog } from '../../log/systemLog.js';
import { BackendError } from '../types.js';
import { abortError } from '../upstream/abortable.js';
import { FairQueue } from './fairQueue.js';
import { pickSlot, slotGrant, type ActiveCount } from './slotPick.js';
import type { QueueBounds, SlotGrant, SlotLedger, SlotRequest } from './types.js';

/** setTimeout fires at once past this (a 32-bit delay): a longer wait is no wait bound at all. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

interface Waiter {
  readonly request: SlotRequest;
  /** The key in its FairQueue: unique even if a stream id were queued twice. */
  readonly key: string;
  readonly since: number;
  readonly onQueued: ((position: number) => void) | undefined;
  /** The position last given to onQueued, so that it runs only when it changes. */
  reported: number;
  /** Removes the abort listener and the timer; the waiter is no longer in its queue. */
  settle(outcome: { grant: SlotGrant } | { error: unknown }): void;
}

/**
 * The slot ledger of one process (docs/upstreams.md "Queues"): counts the streams each
 * server holds, grants a slot at once when a candidate has room, and otherwise queues the
 * request in its model's FairQueue (start-time fair between keys; fairQueue.ts has the rule).
 *
 * Servers are shared between models: a server that serves models A and B has one pool of
 * `max_parallel` slots, and a waiter can only take a slot on one of its own candidates.
 * So when slots free up (a release, wake()) the ledger hands them out in rounds: in every
 * queue it finds the first waiter in fair order that one of its candidates has room for,
 * and of those it grants the one that arrived first; it stops when no waiter can be
 * granted. Order is fair within a queue and first-come between queues. A release frees one
 * slot, so it grants at most one waiter: one round of O(waiters × candidates) plus the
 * round that finds nothing. Positions are sent after the rounds, once per waiter whose
 * position changed.
 */
export class LocalSlotLedger implements SlotLedger {
  private readonly held = new Map<string, number>();
  private readonly queues = new Map<string, FairQueue<Waiter>>();
  private arrivals = 0;
  private closed = false;
  private readonly count: ActiveCount = (upstream) => this.held.get(upstream) ?? 0;

  constructor(
    private readonly bounds: QueueBounds,
    private readonly log?: Pick<SystemLog, 'error'>,
  ) {}

  acquire(request: SlotRequest, signal: AbortSignal, onQueued?: (position: number) => void): Promise<SlotGrant> {
    if (signal.aborted) return Promise.reject(abortError(signal));
    if (this.closed) return Promise.reject(shuttingDown(request.queue));
    if (request.candidates.length === 0) {
      // Candidates are fixed for the wait: with none, no slot could ever come.
      return Promise.reject(new BackendError('upstream_unavailable', `no healthy server serves the model '${request.queue}' now`, { fields: { queue: request.queue } }));
    }
    const now = pickSlot(request.candidates, request.preferred, this.count, request.usable);
    if (now) return Promise.resolve(this.hold(now.name, 0));

    let queue = this.queues.get(request.queue);
    if (queue?.full) return Promise.reject(this.queueFull(request, queue.size));
    if (!queue) {
      queue = new FairQueue<Waiter>(this.bounds.maxQueue);
      this.queues.set(request.queue, queue);
    }
    return this.enqueue(queue, request, signal, onQueued);
  }

  active(upstream: string): number {
    return this.count(upstream);
  }

  queued(queue?: string): number {
    if (queue !== undefined) return this.queues.get(queue)?.size ?? 0;
    let total = 0;
    for (const q of this.queues.values()) total += q.size;
    return total;
  }

  wake(): void {
    this.dispatch();
  }

  async close(): Promise<void> {
    this.closed = true;
    const queues = [...this.queues.entries()];
    this.queues.clear();
    for (const [name, queue] of queues) {
      for (const waiter of [...queue.waiters()]) {
        queue.remove(waiter.id);
        waiter.item.settle({ error: shuttingDown(name) });
      }
    }
  }

  private enqueue(queue: FairQueue<Waiter>, request: SlotRequest, signal: AbortSignal, onQueued: ((position: number) => void) | undefined): Promise<SlotGrant> {
    return new Promise<SlotGrant>((resolve, reject) => {
      const arrival = ++this.arrivals;
      let timer: NodeJS.Timeout | undefined;
      const leave = (error: unknown) => {
        if (!queue.remove(waiter.key)) return;
        this.dropIfEmpty(request.queue, queue);
        waiter.settle({ error });
        this.report([queue]);
      };
      const onAbort = () => leave(abortError(signal));
      const waiter: Waiter = {
        request,
        key: String(arrival),
        since: performance.now(),
        onQueued,
        reported: 0,
        settle: (outcome) => {
          waiter.reported = -1; // out of the queue: no more positions
          signal.removeEventListener('abort', onAbort);
          if (timer) clearTimeout(timer);
          if ('grant' in outcome) resolve(outcome.grant);
          else reject(outcome.error);
        },
      };
      queue.push(waiter.key, request.owner, waiter, arrival);
      signal.addEventListener('abort', onAbort, { once: true });
      if (this.bounds.maxWaitMs <= LONGEST_TIMER_MS) {
        timer = setTimeout(() => leave(this.waitedTooLong(request)), this.bounds.maxWaitMs);
        timer.unref();
      }
      // The new waiter learns its position, and those it went ahead of their new ones.
      this.report([queue]);
    });
  }

  /** Takes a slot on `upstream`; its release gives it to the next waiter that can use it. */
  private hold(upstream: string, waitedMs: number): SlotGrant {
    this.held.set(upstream, this.count(upstream) + 1);
    return slotGrant(upstream, waitedMs, () => {
      const left = this.count(upstream) - 1;
      if (left > 0) this.held.set(upstream, left);
      else this.held.delete(upstream);
      this.dispatch();
    });
  }

  /** Grants every waiter a slot can now go to, in the order the class comment gives. */
  private dispatch(): void {
    const touched = new Set<FairQueue<Waiter>>();
    for (;;) {
      let next: { name: string; queue: FairQueue<Waiter>; key: string; arrival: number; upstream: string } | undefined;
      for (const [name, queue] of this.queues) {
        // This queue's first waiter in fair order that can be granted; it stands for the queue.
        for (const waiter of queue.waiters()) {
          const slot = pickSlot(waiter.item.request.candidates, waiter.item.request.preferred, this.count, waiter.item.request.usable);
          if (!slot) continue;
          if (!next || waiter.arrival < next.arrival) next = { name, queue, key: waiter.id, arrival: waiter.arrival, upstream: slot.name };
          break;
        }
      }
      if (!next) break;
      const granted = next.queue.grant(next.key)!;
      touched.add(next.queue);
      this.dropIfEmpty(next.name, next.queue);
      granted.item.settle({ grant: this.hold(next.upstream, Math.round(performance.now() - granted.item.since)) });
    }
    this.report(touched);
  }

  /** Sends each waiter of these queues its position if it changed; callbacks run after the walk. */
  private report(queues: Iterable<FairQueue<Waiter>>): void {
    const calls: Array<[Waiter, number]> = [];
    for (const queue of queues) {
      queue.waiters().forEach((waiter, index) => {
        if (waiter.item.reported === index + 1) return;
        waiter.item.reported = index + 1;
        if (waiter.item.onQueued) calls.push([waiter.item, index + 1]);
      });
    }
    for (const [waiter, position] of calls) {
      // A callback may abort a waiter, which reports again: skip what that made stale.
      if (waiter.reported !== position) continue;
      // A callback that throws must not leave the ledger half-updated: its state is final here.
      try {
        waiter.onQueued?.(position);
      } catch (err) {
        this.log?.error('stream_internal_error', { trace: waiter.request.id, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  private dropIfEmpty(name: string, queue: FairQueue<Waiter>): void {
    if (queue.size === 0 && this.queues.get(name) === queue) this.queues.delete(name);
  }

  private queueFull(request: SlotRequest, waiting: number): BackendError {
    const servers = request.candidates.length;
    return new BackendError(
      'upstream_busy',
      `the model '${request.queue}' is busy: ${serversFull(servers)} and ${waiting} requests already wait in its queue, the most allowed (JARVIS_UPSTREAM_QUEUE=${this.bounds.maxQueue}); try again shortly`,
      { fields: { queue: request.queue, waiting, servers } },
    );
  }

  private waitedTooLong(request: SlotRequest): BackendError {
    const seconds = Number((this.bounds.maxWaitMs / 1000).toFixed(2));
    return new BackendError(
      'upstream_busy',
      `waited ${seconds} s for a server of the model '${request.queue}' (JARVIS_UPSTREAM_QUEUE_TIMEOUT_MS=${this.bounds.maxWaitMs}): ${serversFull(request.candidates.length)} all along; try again shortly`,
      { fields: { queue: request.queue, waiting: this.queued(request.queue), waited_ms: this.bounds.maxWaitMs } },
    );
  }
}

function serversFull(servers: number): string {
  return servers === 1 ? 'its 1 server is at its max_parallel' : `all ${servers} of its servers are at their max_parallel`;
}

/** Not `shutting_down` (no stream error code): 503 with Retry-After, as a busy server would be. */
function shuttingDown(queue: string): BackendError {
  return new BackendError('upstream_busy', `Jarvis is shutting down: the request waiting for a server of the model '${queue}' was not sent; try again once it is back`, {
    fields: { queue },
  });
}
