import type { Redis } from 'ioredis';
import type { QueueBounds, SlotGrant, SlotLedger, SlotRequest } from '../../../backends/routing/types.js';
import { abortError } from '../../../backends/upstream/abortable.js';
import { slotGrant } from '../../../backends/routing/slotPick.js';
import { ACQUIRE, LEAVE, POLL, RENEW } from './ledgerScripts.js';
import { noCandidate, queueFull, shuttingDown, unavailable, waitedTooLong } from './ledgerWords.js';
import { LEDGER_PREFIX, ledgerKeys } from './upstreamKeys.js';

type Answer = [kind: string, value: string | number, member?: string, waiting?: number];

interface LedgerScripts {
  jarvisSlotAcquire(prefix: string, ...args: Array<string | number>): Promise<Answer>;
  jarvisSlotPoll(prefix: string, ...args: Array<string | number>): Promise<Array<string | number>>;
  jarvisSlotLeave(prefix: string, ...args: Array<string | number>): Promise<string>;
  jarvisSlotRenew(prefix: string, ...args: Array<string | number>): Promise<Array<string | number>>;
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
 * An instance with waiters asks every 25 ms: one script call for all of them, which also grants
 * every waiter of any instance that can go. A slot freed on this instance is looked at at once.
 * Measured on a loaded 2-core box: a slot freed on one instance reaches a waiter on another in
 * 15 ms (median; 25-30 ms at p90), and a poll for 100 waiters costs Redis about 0.1 ms, so three
 * instances polling cost it about 1 % of a core per 100 waiting streams. Pub/sub on release
 * would save the 15 ms of a wait that already lasted a whole stream; polling needs no second
 * connection and cannot lose a message.
 */
export const POLL_MS = 25;

/** setTimeout fires at once past this (a 32-bit delay). */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** `max_parallel` Infinity, as the scripts read it (JSON has no Infinity). */
const UNBOUNDED = 1e9;

interface Waiter {
  request: SlotRequest;
  /** Its member of the queue in Redis: `<arrival>:<instance>:<stream>` (a new one if it had to join again). */
  member: string;
  position: number;
  startedAt: number;
  onQueued: ((position: number) => void) | undefined;
  settled: boolean;
  settle(result: { grant: SlotGrant } | { error: unknown }): void;
}

/**
 * The cluster's SlotLedger (docs/upstreams.md "Across instances"): every instance's slots and
 * waiters are in Redis, so all of them together never give a server more than its
 * `max_parallel`, and each model's queue has one fair order across the cluster (the rules,
 * the local ledger's, are written out in ledgerScripts.ts). Slots and waiters are leased like
 * the streams (JARVIS_LEASE_MS, renewed every third of it): an instance killed with SIGKILL
 * frees its slots and leaves its queues within the lease. active() and queued() answer from the
 * figures last read. Redis away: acquire refuses (`cluster_unavailable`), held slots are written
 * back by the first renewal after it, waiters wait on (a waiter whose place was lost, to a
 * Redis wiped empty or a stall past the lease, joins again at the back of its key's turn).
 * Redis restarted empty: until every instance's next renewal (a third of a lease) the running
 * streams' slots are missing, and a request arriving then may be given a full server.
 */
export class RedisSlotLedger implements SlotLedger {
  private readonly scripts: LedgerScripts;
  /** Slots this instance holds: slot member → upstream. */
  private readonly held = new Map<string, string>();
  private readonly waiters = new Map<string, Waiter>();
  private readonly activeCounts = new Map<string, number>();
  private readonly queueCounts = new Map<string, number>();
  private readonly renewTimer: NodeJS.Timeout;
  private readonly pollMs: number;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private pollAgain = false;
  private waitersRenewedAt = performance.now();
  private closed = false;

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
    // Candidates are fixed for the wait: with none, no slot could ever come (as the local ledger says).
    if (request.candidates.length === 0) throw noCandidate(request.queue);
    const [kind, value, member, waiting] = await this.ask(request);
    if (kind === 'granted') {
      const grant = this.granted(String(value), this.slotOf(request), 0);
      if (signal.aborted) {
        grant.release();
        throw abortError(signal);
      }
      return grant;
    }
    if (kind === 'full') {
      this.queueCounts.set(request.queue, Number(value));
      throw queueFull(request, Number(value), this.options.bounds.maxQueue);
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

  /** The ACQUIRE script: a slot now, a place in the queue, or a full queue. */
  private async ask(request: SlotRequest): Promise<Answer> {
    if (this.redis.status !== 'ready') throw unavailable(this.redis.status);
    if (!this.queueCounts.has(request.queue)) this.queueCounts.set(request.queue, 0);
    const candidates = request.candidates.map((c) => {
      if (!this.activeCounts.has(c.name)) this.activeCounts.set(c.name, 0);
      return [c.name, Number.isFinite(c.maxParallel) ? c.maxParallel : UNBOUNDED, c.weight];
    });
    const { instance, leaseMs, bounds } = this.options;
    try {
      return await this.scripts.jarvisSlotAcquire(LEDGER_PREFIX, request.queue, instance, request.id, request.owner, JSON.stringify(candidates), request.preferred ?? '', leaseMs, bounds.maxQueue);
    } catch (err) {
      throw unavailable(err instanceof Error ? err.message : String(err));
    }
  }

  /** Queued: waits for a poll to find it granted, its longest wait to pass, or its signal. */
  private wait(request: SlotRequest, member: string, position: number, startedAt: number, signal: AbortSignal, onQueued?: (position: number) => void): Promise<SlotGrant> {
    return new Promise<SlotGrant>((resolve, reject) => {
      const { maxWaitMs } = this.options.bounds;
      const timer = setTimeout(
        () => {
          this.forget(waiter, 'leave');
          waiter.settle({ error: waitedTooLong(request, maxWaitMs, this.queued(request.queue)) });
        },
        Math.min(Math.max(0, maxWaitMs - (performance.now() - startedAt)), LONGEST_TIMER_MS),
      );
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
        settled: false,
        settle: (result) => {
          if (waiter.settled) return;
          waiter.settled = true;
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          if ('grant' in result) resolve(result.grant);
          else reject(result.error);
        },
      };
      this.waiters.set(member, waiter);
      signal.addEventListener('abort', onAbort, { once: true });
      tell(waiter, position);
      if (signal.aborted) return onAbort();
      this.schedulePoll();
    });
  }

  /** The waiter leaves this instance's list; with 'leave', its place in Redis too (or the slot it was given meanwhile). */
  private forget(w: Waiter, how: 'leave' | 'granted'): void {
    if (!this.waiters.delete(w.member) || how === 'granted' || this.redis.status !== 'ready') return;
    // Not left (Redis away): its lease ends it, as a dead instance's.
    void this.scripts.jarvisSlotLeave(LEDGER_PREFIX, this.options.instance, w.request.queue, w.member, this.slotOf(w.request), this.options.leaseMs).then(
      (r) => (r === 'released' ? this.wake() : undefined),
      () => {},
    );
  }

  /**
   * Its place was lost (Redis came back empty, or this instance stalled past the lease): it asks
   * again, after a third of a lease, when every live instance's renewal has written its running
   * streams' slots back (asked at once, it would find their servers empty and go over max_parallel).
   */
  private rejoin(w: Waiter): void {
    this.waiters.delete(w.member);
    const again = new Promise((r) => setTimeout(r, this.options.leaseMs / 3 + 50).unref());
    again.then(() => (w.settled ? (['left', ''] as Answer) : this.ask(w.request))).then(
      ([kind, value, member]) => {
        if (w.settled) {
          // Stopped or timed out meanwhile: what it was given goes back.
          if (kind === 'granted') void this.redis.zrem(ledgerKeys.slots(String(value)), this.slotOf(w.request)).catch(() => {});
          if (kind === 'queued') void this.scripts.jarvisSlotLeave(LEDGER_PREFIX, this.options.instance, w.request.queue, String(member), this.slotOf(w.request), this.options.leaseMs).catch(() => {});
        } else if (kind === 'granted') {
          w.settle({ grant: this.granted(String(value), this.slotOf(w.request), Math.round(performance.now() - w.startedAt)) });
        } else if (kind === 'full') {
          w.settle({ error: queueFull(w.request, Number(value), this.options.bounds.maxQueue) });
        } else {
          w.member = String(member);
          this.waiters.set(w.member, w);
          this.moved(w, Number(value));
          this.schedulePoll();
        }
      },
      (err: unknown) => w.settle({ error: err }),
    );
  }

  private granted(upstream: string, member: string, waitedMs: number): SlotGrant {
    this.held.set(member, upstream);
    this.activeCounts.set(upstream, this.active(upstream) + 1);
    return slotGrant(upstream, waitedMs, () => {
      if (!this.held.delete(member)) return;
      this.activeCounts.set(upstream, Math.max(0, this.active(upstream) - 1));
      if (this.redis.status !== 'ready') return; // its lease frees it
      // One connection keeps its commands in order: the poll wake() sends sees the slot free.
      void this.redis.zrem(ledgerKeys.slots(upstream), member).catch(() => {});
      this.wake();
    });
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
        else void this.redis.zrem(ledgerKeys.slots(upstream), member.slice(member.indexOf(':') + 1)).catch(() => {});
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
    const current = this.waiters.get(w.member) === w;
    if (answer.startsWith('g:')) {
      const upstream = answer.slice(2);
      if (!current) {
        // Stopped while the poll was under way, after the grant: the slot goes back.
        void this.redis.zrem(ledgerKeys.slots(upstream), this.slotOf(w.request)).catch(() => {});
        return;
      }
      this.forget(w, 'granted');
      w.settle({ grant: this.granted(upstream, this.slotOf(w.request), Math.round(performance.now() - w.startedAt)) });
    } else if (!current) {
      return;
    } else if (answer.startsWith('p:')) {
      this.moved(w, Number(answer.slice(2)));
    } else {
      this.rejoin(w);
    }
  }

  private moved(w: Waiter, position: number): void {
    if (position === w.position) return;
    w.position = position;
    tell(w, position);
  }

  private slotOf(request: SlotRequest): string {
    return `${this.options.instance}:${request.id}`;
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
      // Every model's queue, the other instances' waiters in it too (/health lists them per server).
      for (const entry of out.slice(upstreams.length)) {
        const text = String(entry);
        const at = text.lastIndexOf('=');
        this.queueCounts.set(text.slice(0, at), Number(text.slice(at + 1)));
      }
    } catch {
      // Redis away: the renewal after it is back writes the leases again (missing ones too).
    }
  }
}

/** A waiter's onQueued: one that throws must not cut short the poll that tells the others (the router's only logs and reports). */
function tell(w: Waiter, position: number): void {
  try {
    w.onQueued?.(position);
  } catch {
    // Its stream is told again at the next change.
  }
}
