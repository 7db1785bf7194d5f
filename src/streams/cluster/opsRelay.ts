import type { Redis } from 'ioredis';
import type { LifecycleRecord } from '../../shared/lifecycle.js';

// Cluster mode: every instance's lifecycle records reach every other instance's ops feed, so
// `/ops` on any instance shows the whole cluster (docs/observability.md "The feed"). Pub/sub,
// batched every FLUSH_MS: a stream never waits for Redis, and while Redis is away the records
// are dropped and counted (the timeline misses them; the log files still hold them).

/** `{"i": <instance>, "r": [[<seq>, <record>], …]}`: the publisher and its records with its own seqs. */
export const OPS_CHANNEL = 'jarvis:ops';

const FLUSH_MS = 50;
/** Records waiting for the next publish; past this, new ones are dropped. */
const MAX_PENDING = 5000;
/** Records in one message. */
const MAX_BATCH = 500;
/** Publishes not yet answered; past this (Redis slow), a batch is dropped rather than queued. */
const MAX_IN_FLIGHT = 4;

export type RemoteRecords = (from: string, batch: Array<[number, LifecycleRecord]>) => void;

export interface OpsRelayOptions {
  instance: string;
  /** The first record dropped after records went through (or since start): once per outage. */
  onFailing?: (error: string) => void;
}

export class OpsRelay {
  /** Records not published (Redis away, slow, or the backlog full), since start. */
  dropped = 0;
  private pending: Array<[number, LifecycleRecord]> = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private failing = false;
  private closed = false;
  private readonly sub: Redis;

  constructor(
    private readonly redis: Redis,
    private readonly options: OpsRelayOptions,
    onRemote: RemoteRecords,
  ) {
    // Subscriptions need a connection of their own; it waits out a Redis that is not up yet (as auth/keySignals.ts's).
    this.sub = redis.duplicate({ enableOfflineQueue: true, commandTimeout: undefined, maxRetriesPerRequest: null, enableAutoPipelining: false });
    this.sub.on('error', () => {});
    void this.sub.subscribe(OPS_CHANNEL).catch(() => {});
    this.sub.on('message', (channel: string, message: string) => {
      if (channel !== OPS_CHANNEL) return;
      const parsed = parseMessage(message);
      if (parsed && parsed.from !== options.instance) onRemote(parsed.from, parsed.records);
    });
  }

  publish(seq: number, record: LifecycleRecord): void {
    // After shutdown began (the last lines of shutdown): Redis is closing, nothing is sent or counted.
    if (this.closed) return;
    if (this.pending.length >= MAX_PENDING) {
      this.drop(1, 'backlog full');
      return;
    }
    this.pending.push([seq, record]);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Publishes what is pending and leaves the channel. */
  close(): void {
    this.flush();
    this.closed = true;
    this.sub.disconnect();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const all = this.pending;
    this.pending = [];
    for (let i = 0; i < all.length; i += MAX_BATCH) {
      const batch = all.slice(i, i + MAX_BATCH);
      if (this.redis.status !== 'ready') {
        this.drop(batch.length, `Redis is ${this.redis.status}`);
        continue;
      }
      if (this.inFlight >= MAX_IN_FLIGHT) {
        this.drop(batch.length, 'Redis is slow to answer');
        continue;
      }
      this.inFlight++;
      this.redis
        .publish(OPS_CHANNEL, JSON.stringify({ i: this.options.instance, r: batch }))
        .then(() => {
          this.failing = false;
        })
        .catch((err: unknown) => this.drop(batch.length, err instanceof Error ? err.message : String(err)))
        .finally(() => this.inFlight--);
    }
  }

  private drop(count: number, why: string): void {
    this.dropped += count;
    if (this.failing || this.closed) return;
    this.failing = true;
    this.options.onFailing?.(why);
  }
}

function parseMessage(message: string): { from: string; records: Array<[number, LifecycleRecord]> } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { i, r } = value as { i?: unknown; r?: unknown };
  if (typeof i !== 'string' || !Array.isArray(r)) return undefined;
  const records: Array<[number, LifecycleRecord]> = [];
  for (const item of r) {
    if (!Array.isArray(item) || typeof item[0] !== 'number' || !isRecord(item[1])) continue;
    records.push([item[0], item[1]]);
  }
  return { from: i, records };
}

function isRecord(v: unknown): v is LifecycleRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<LifecycleRecord>;
  return typeof r.t === 'number' && typeof r.event === 'string' && typeof r.level === 'string' && typeof r.instance === 'string' && typeof r.fields === 'object' && r.fields !== null;
}
