import type { Redis } from 'ioredis';
import type { QueueBounds, SlotGrant, SlotLedger, SlotRequest } from '../../../backends/routing/types.js';
import { BackendError } from '../../../backends/types.js';
import { abortError } from '../../../backends/upstream/abortable.js';
import { ClusterUnavailableError } from '../../coordinator.js';
import { ACQUIRE, LEAVE, POLL, RENEW } from './ledgerScripts.js';
import { LEDGER_PREFIX, ledgerKeys } from './upstreamKeys.js';

interface LedgerScripts {
  jarvisSlotAcquire(prefix: string, ...args: Array<string | number>): Promise<[string, string | number, string?, number?]>;
  jarvisSlotPoll(prefix: string, ...args: Array<string | number>): Promise<Array<string | number>>;
  jarvisSlotLeave(prefix: string, ...args: Array<string | number>): Promise<string>;
  jarvisSlotRenew(prefix: string, ...args: Array<string | number>): Promise<number[]>;
}

export interface RedisSlotLedgerOptions {
  /** JARVIS_INSTANCE_ID: its slots and waiters are named `<instance>:<stream>`. */
  instance: string;
  /** JARVIS_LEASE_MS: a slot or a waiter its instance stops renewing is dropped after this long. */
  leaseMs: number;
  bounds: QueueBounds;
  /** How often an instance with waiters asks whether they may go (default POLL_MS). */
  pollMs?: number;
  /** The upstreams active() is asked about before a request named them (/health lists them all). */
  upstreams?: string[];
}

/**
 * An instance with waiters asks every 25 ms: one script call for all of them (it also grants
 * every other instance's waiters that can go). A slot freed on this instance is looked at at once.
 * Measured (test/cluster/upstreams/redisSlotLedger.test.ts): a freed slot reaches a waiter on
 * another instance in about half the interval on average, at most one interval plus a round trip.
 */
export const POLL_MS = 25;

/** setTimeout fires at once past this (a 32-bit delay). */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** `max_parallel` Infinity, as the scripts read it (JSON has no Infinity). */
const UNBOUNDED = 1e9;

interface Waiter {
  request: SlotRequest;
  /** Its member of the queue in Redis: `<arrival>:<instance>:<stream>`. */
  member: string;
  position: number;
  startedAt: number;
  onQueued: ((position: number) => void) | undefined;
  settle(result: { grant: SlotGrant } | { error: unknown }): void;
}

/**
 * The cluster's SlotLedger (docs/upstreams.md "Across instances"): every instance's slots and
 * waiters are in Redis, so all of them together never give a server more than its
 * `max_parallel`, and the queue's fair order is one order across the cluster (the rule is
 * written out in ledgerScripts.ts). Slots and waiters are leased like the streams
 * (JARVIS_LEASE_MS, renewed every third of it): an instance killed with SIGKILL frees its slots
 * and leaves its queues within the lease. active() and queued() answer from the figures last read.
 */
export class RedisSlotLedger implements SlotLedger {
  private readonly scripts: LedgerScripts;
  /** Slots this instance holds: slot member → upstream. */
  private readonly held = new Map<string, string>();
  private readonly waiters = new Map<string, Waiter>();
  private readonly activeCounts = new Map<string, number>();
  private readonly queueCounts = new Map<string, number>();
  private readonly renewTimer: NodeJS.Timeout;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private pollAgain = false;
  private waitersRenewedAt = performance.now();
  private closed = false;
  private readonly pollMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisSlotLedgerOptions,
  ) {
    redis.defineCommand('jarvisSlotAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    redis.defineCommand('jarvisSlotPoll', { numberOfKeys: 1, lua: POLL });
    redis.defineCommand('jarvisSlotLeave', { numberOfKeys: 1, lua: LEAVE });
    redis.defineCommand('jarvisSlotRenew', { numberOfKeys: 1, lua: RENEW });
    this.scripts = redis as unknown as LedgerScripts;
    this.pollMs = options.pollMs ?? POLL_MS;
    for (const name of options.upstreams ?? []) this.activeCounts.set(name, 0);
    this.renewTimer = setInterval(() => void this.renew(), Math.max(100, Math.floor(options.leaseMs / 3)));
    this.renewTimer.unref();
  }

  async acquire(request: SlotRequest, signal: AbortSignal, onQueued?: (position: number) => void): Promise<SlotGrant> {
    if (signal.aborted) throw abortError(signal);
    const startedAt = performance.now();
    if (this.closed) throw shuttingDown(request.queue);
    if (request.candidates.length === 0) {
      // Candidates are fixed for the wait: with none, no slot could ever come (as the local ledger says).
      throw new BackendError('upstream_unavailable', `no healthy server serves the model '${request.queue}' now`, { fields: { queue: request.queue } });
    }
    if (this.redis.status !== 'ready') throw unavailable(this.redis.status);
    if (!this.queueCounts.has(request.queue)) this.queueCounts.set(request.queue, 0);
    const { instance, leaseMs, bounds } = this.options;
    const candidates = request.candidates.map((c) => {
      if (!this.activeCounts.has(c.name)) this.activeCounts.set(c.name, 0);
      return [c.name, Number.isFinite(c.maxParallel) ? c.maxParallel : UNBOUNDED, c.weight];
    });
    let answer: [string, string | number, string?, number?];
    try {
      answer = await this.scripts.jarvisSlotAcquire(LEDGER_PREFIX, request.queue, instance, request.id, request.owner, JSON.stringify(candidates), request.preferred ?? '', leaseMs, bounds.maxQueue);
    } catch (err) {
      throw unavailable(err instanceof Error ? err.message : String(err));
    }
    const [kind, value, member, waiting] = answer;
    if (kind === 'granted') {
      const grant = this.granted(String(value), `${instance}:${request.id}`, 0);
      if (signal.aborted) {
        grant.release();
        throw abortError(signal);
      }
      return grant;
    }
    if (kind === 'full') {
      this.queueCounts.set(request.queue, Number(value));
      const servers = request.candidates.length;
      throw new BackendError(
        'upstream_busy',
        `the model '${request.queue}' is busy: ${serversFull(servers)} and ${value} requests already wait in its queue across the cluster, the most allowed (JARVIS_UPSTREAM_QUEUE=${bounds.maxQueue}); try again shortly`,
        { fields: { queue: request.queue, waiting: Number(value), servers } },
      );
    }
    this.queueCounts.set(request.queue, Number(waiting));
    return this.wait(request, String(member), Number(value), startedAt, signal, onQueued);
  }

  active(upstream: string): number {
    return this.activeCounts.get(upstream) ?? 0;
  }

  queued(queue?: string): number {
    if (queue !== undefined) return this.queueCounts.get(queue) ?? 0;
    let n = 0;
    for (const count of this.queueCounts.values()) n += count;
    return n;
  }

  wake(): void {
    if (this.waiters.size === 0 || this.closed) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    void this.poll();
  }

  /** Shutdown: waiters are refused, held slots freed at once (best effort: else their lease ends them). The Redis connection is the caller's. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.renewTimer);
    clearTimeout(this.pollTimer);
    for (const w of [...this.waiters.values()]) {
      this.forget(w, 'leave');
      w.settle({ error: shuttingDown(w.request.queue) });
    }
    if (this.held.size === 0 || this.redis.status !== 'ready') return;
    const pipeline = this.redis.pipeline();
    for (const [member, upstream] of this.held) pipeline.zrem(ledgerKeys.slots(upstream), member);
    this.held.clear();
    await pipeline.exec().catch(() => {});
  }

  /** Queued: waits for the poll to find it granted, its longest wait to pass, or its signal. */
  private wait(request: SlotRequest, member: string, position: number, startedAt: number, signal: AbortSignal, onQueued?: (position: number) => void): Promise<SlotGrant> {
    return new Promise<SlotGrant>((resolve, reject) => {
      const left = this.options.bounds.maxWaitMs - (performance.now() - startedAt);
      const { maxWaitMs } = this.options.bounds;
      const timer = setTimeout(() => {
        this.forget(waiter, 'leave');
        const seconds = Math.round(maxWaitMs / 100) / 10;
        waiter.settle({
          error: new BackendError(
            'upstream_busy',
            `waited ${seconds} s for a server of the model '${request.queue}' (JARVIS_UPSTREAM_QUEUE_TIMEOUT_MS=${maxWaitMs}): ${serversFull(request.candidates.length)} all along; try again shortly`,
            { fields: { queue: request.queue, waiting: this.queued(request.queue), waited_ms: maxWaitMs } },
          ),
        });
      }, Math.min(Math.max(0, left), LONGEST_TIMER_MS));
      timer.unref();
      const onAbort = () => {
        this.forget(waiter, 'leave');
        waiter.settle({ error: abortError(signal) });
      };
      const waiter: Waiter = {
        request,
        member,
        position,
        startedAt,
        onQueued,
        settle: (result) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          if ('grant' in result) resolve(result.grant);
          else reject(result.error);
        },
      };
      this.waiters.set(member, waiter);
      signal.addEventListener('abort', onAbort, { once: true });
      onQueued?.(position);
      if (signal.aborted) return onAbort();
      this.schedulePoll();
    });
  }

  /** The waiter leaves this instance's list; with 'leave', its place in Redis too (or the slot it was given meanwhile). */
  private forget(w: Waiter, how: 'leave' | 'granted'): void {
    if (!this.waiters.delete(w.member)) return;
    if (how === 'leave' && this.redis.status === 'ready') {
      const slot = `${this.options.instance}:${w.request.id}`;
      // Not left in time (Redis away): its lease ends it, as a dead instance's.
      void this.scripts.jarvisSlotLeave(LEDGER_PREFIX, this.options.instance, w.request.queue, w.member, slot, this.options.leaseMs).then(
        (r) => (r === 'released' ? this.wake() : undefined),
        () => {},
      );
    }
  }

  private granted(upstream: string, member: string, waitedMs: number): SlotGrant {
    this.held.set(member, upstream);
    this.activeCounts.set(upstream, this.active(upstream) + 1);
    let released = false;
    return {
      upstream,
      waitedMs,
      release: () => {
        if (released) return;
        released = true;
        if (!this.held.delete(member)) return;
        this.activeCounts.set(upstream, Math.max(0, this.active(upstream) - 1));
        if (this.redis.status !== 'ready') return; // its lease frees it
        // One connection keeps its commands in order: the poll wake() sends sees the slot free.
        void this.redis.zrem(ledgerKeys.slots(upstream), member).catch(() => {});
        this.wake();
      },
    };
  }

  private schedulePoll(): void {
    if (this.waiters.size === 0 || this.pollTimer || this.polling || this.closed) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      void this.poll();
    }, this.pollMs);
  }

  /** One script call for all of this instance's waiters: granted, their position, or gone. */
  private async poll(): Promise<void> {
    const waiters = [...this.waiters.values()];
    if (waiters.length === 0 || this.closed) return;
    this.polling = true;
    try {
      if (this.redis.status !== 'ready') return; // they wait on, bounded by maxWaitMs
      const queues = [...new Set(waiters.map((w) => w.request.queue))];
      const pairs = waiters.flatMap((w) => [queues.indexOf(w.request.queue) + 1, w.member]);
      // The waiters' leases every third of a lease, as the slots'; the positions at every poll.
      const renew = performance.now() - this.waitersRenewedAt >= this.options.leaseMs / 3;
      const out = await this.scripts.jarvisSlotPoll(LEDGER_PREFIX, this.options.instance, this.options.leaseMs, renew ? '1' : '0', queues.length, ...queues, ...pairs);
      if (renew) this.waitersRenewedAt = performance.now();
      waiters.forEach((w, i) => this.polled(w, String(out[i])));
      queues.forEach((q, i) => this.queueCounts.set(q, Number(out[waiters.length + i])));
      for (const extra of out.slice(waiters.length + queues.length)) {
        // A slot given to a waiter this poll did not ask about: queued since it was sent (it is
        // granted now), or stopped since (the slot goes back).
        const [member = '', upstream = ''] = String(extra).split('=');
        const waiter = this.waiters.get(member);
        if (waiter) this.polled(waiter, `g:${upstream}`);
        else void this.redis.zrem(ledgerKeys.slots(upstream), slotOf(member)).catch(() => {});
      }
    } catch {
      // Redis away or slow: the waiters wait on (bounded by maxWaitMs); the next poll asks again.
    } finally {
      this.polling = false;
      if (this.pollAgain) {
        this.pollAgain = false;
        this.wake();
      } else this.schedulePoll();
    }
  }

  private polled(w: Waiter, answer: string): void {
    const slot = `${this.options.instance}:${w.request.id}`;
    if (answer.startsWith('g:')) {
      const upstream = answer.slice(2);
      if (!this.waiters.has(w.member)) {
        // Aborted while the poll was under way, after the grant: the slot goes back.
        void this.redis.zrem(ledgerKeys.slots(upstream), slot).catch(() => {});
        return;
      }
      this.forget(w, 'granted');
      w.settle({ grant: this.granted(upstream, slot, Math.round(performance.now() - w.startedAt)) });
    } else if (answer.startsWith('p:')) {
      const position = Number(answer.slice(2));
      if (position !== w.position && this.waiters.has(w.member)) {
        w.position = position;
        w.onQueued?.(position);
      }
    } else if (this.waiters.has(w.member)) {
      this.forget(w, 'granted');
      w.settle({ error: new ClusterUnavailableError(`the stream lost its place in the queue of ${w.request.queue}: this instance could not reach Redis for longer than its lease (JARVIS_LEASE_MS); retry`) });
    }
  }

  /** Every third of a lease: the held slots' leases, and the figures active() and queued() answer from. */
  private async renew(): Promise<void> {
    if (this.redis.status !== 'ready' || this.closed) return;
    const held = [...this.held].flatMap(([member, upstream]) => [upstream, member]);
    const upstreams = [...this.activeCounts.keys()];
    const queues = [...this.queueCounts.keys()];
    try {
      const out = await this.scripts.jarvisSlotRenew(LEDGER_PREFIX, this.options.leaseMs, this.held.size, ...held, upstreams.length, ...upstreams, ...queues);
      upstreams.forEach((u, i) => this.activeCounts.set(u, Number(out[i])));
      queues.forEach((q, i) => this.queueCounts.set(q, Number(out[upstreams.length + i])));
    } catch {
      // Redis away: the renewal after it is back writes the leases again (missing ones too).
    }
  }
}

/** A queue member `<arrival>:<instance>:<stream>`'s slot member, `<instance>:<stream>`. */
function slotOf(member: string): string {
  return member.slice(member.indexOf(':') + 1);
}

function serversFull(servers: number): string {
  return servers === 1 ? 'its 1 server is at its max_parallel' : `all ${servers} of its servers are at their max_parallel`;
}

/** As the local ledger: 503 with Retry-After, as a busy server would be. */
function shuttingDown(queue: string): BackendError {
  return new BackendError('upstream_busy', `Jarvis is shutting down: the request waiting for a server of the model '${queue}' was not sent; try again once it is back`, {
    fields: { queue },
  });
}

function unavailable(why: string): ClusterUnavailableError {
  return new ClusterUnavailableError(`Redis (REDIS_URL) cannot be reached (${why}): the servers' slots are counted there, so no stream can be given a server now; retry shortly`);
}
