import type { SystemLog } from '../../log/systemLog.js';
import type { KeyStore, StoredApiKey } from '../../store/keys/types.js';
import type { Caller } from '../http/guards/principal.js';

// Every instance's view of the stored keys (docs/team.md "3. Keys", docs/architecture.md
// "Stored keys"): all of them in memory, by digest, kept current by polling the database
// for changed rows (shared Postgres) and, in a cluster, by a Redis message at each change.

/** What a presented stored key is, as this instance sees it now. */
export type KeyVerdict =
  | { kind: 'ok'; caller: Caller; key: StoredApiKey }
  | { kind: 'revoked' | 'expired'; key: StoredApiKey; at: number }
  | { kind: 'unknown' };

export interface KeyDirectoryOptions {
  log: SystemLog;
  /** Look for keys changed by other processes (a shared Postgres). SQLite is held by this process alone: every change passes here. */
  poll: boolean;
  /** How often: the bound on a revocation's reach without Redis. */
  pollMs?: number;
  /** A key stopped being usable (revoked, expired): its streams on this instance end. Called once per key. */
  onEnded?: (key: StoredApiKey, why: 'revoked' | 'expired') => void;
}

/** Digests found in no row, remembered so that a flood of wrong keys asks the database once each. */
const NEGATIVE_MAX = 10_000;
const NEGATIVE_TTL_MS = 5 * 60_000;
/** Database look-ups of unknown digests at once; past it a miss waits for the next poll, which finds new keys too. */
const LOOKUPS_MAX = 4;
/** Each poll reads back this far before its last one: rows stamped by a clock a little behind, or committed late. */
const POLL_OVERLAP_MS = 5_000;
/** Every so often everything is read again, whatever the clocks did. */
const FULL_RELOAD_MS = 60_000;
/** A key's last_used_at is written at most this often per instance. */
const TOUCH_EVERY_MS = 60_000;

export class KeyDirectory {
  private readonly byHash = new Map<string, StoredApiKey>();
  private readonly byId = new Map<string, StoredApiKey>();
  private readonly negative = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<StoredApiKey | undefined>>();
  /** Keys whose streams were ended (or that were never usable here): onEnded runs once each. */
  private readonly ended = new Set<string>();
  private readonly touched = new Map<string, number>();
  private lookups = 0;
  private active = 0;
  private watermark = 0;
  private lastFull = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private nextPoll: { promise: Promise<void>; resolve: () => void } | undefined;
  /** Told of every change made here, for the other instances (keySignals.ts); set in cluster mode. */
  announce: ((id: string) => void) | undefined;

  constructor(
    private readonly store: KeyStore,
    private readonly options: KeyDirectoryOptions,
  ) {}

  /** Reads every key; then polls and watches expiries until close(). */
  async start(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => void this.tick(), this.options.pollMs ?? 500);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.nextPoll?.resolve();
  }

  /** Whether stored key `id` was revoked or has expired, as this instance knows it now. */
  hasEnded(id: string): boolean {
    const key = this.byId.get(id);
    return key !== undefined && endOf(key, Date.now()) !== undefined;
  }

  /** Stored keys neither revoked nor expired (as of the last change or tick). */
  activeCount(): number {
    return this.active;
  }

  /**
   * The key whose SHA-256 (hex) is `hash`. A digest this instance does not hold is looked up
   * in the database (once at a time per digest, a few at once in all), and remembered when no
   * row has it. `memoryOnly`: never the database (public routes, which must stay cheap).
   */
  async verify(hash: string, options: { memoryOnly?: boolean } = {}): Promise<KeyVerdict> {
    let key = this.byHash.get(hash);
    if (!key && !options.memoryOnly) key = await this.lookUp(hash);
    if (!key) return { kind: 'unknown' };
    const now = Date.now();
    if (key.revokedAt !== null) return { kind: 'revoked', key, at: key.revokedAt };
    if (key.expiresAt !== null && key.expiresAt <= now) return { kind: 'expired', key, at: key.expiresAt };
    this.touch(key, now);
    return { kind: 'ok', key, caller: callerOf(key) };
  }

  /** A key created, revoked or changed on this instance: known here at once, and announced to the others. */
  changed(key: StoredApiKey): void {
    this.apply(key);
    this.count();
    this.announce?.(key.id);
  }

  /** Another instance changed key `id` (its Redis message): read it now. */
  async refresh(id: string): Promise<void> {
    try {
      const key = await this.store.get(id);
      if (key) this.apply(key);
      this.count();
    } catch (err) {
      this.options.log.warn('keys_refresh_failed', { key_id: id, error: err instanceof Error ? err.message : String(err) });
    }
  }

  private apply(key: StoredApiKey, quiet = false): void {
    this.byHash.set(key.hash, key);
    this.byId.set(key.id, key);
    this.negative.delete(key.hash);
    const why = endOf(key, Date.now());
    if (!why) this.ended.delete(key.id);
    else if (!this.ended.has(key.id)) {
      this.ended.add(key.id);
      if (!quiet) this.options.onEnded?.(key, why);
    }
  }

  private count(): void {
    const now = Date.now();
    let n = 0;
    for (const key of this.byId.values()) if (!endOf(key, now)) n++;
    this.active = n;
  }

  private async reload(): Promise<void> {
    const started = Date.now();
    const keys = await this.store.list({ includeRevoked: true });
    const first = this.lastFull === 0;
    for (const key of keys) this.apply(key, first);
    this.count();
    this.lastFull = started;
    this.watermark = started;
  }

  /** Twice a second: expiries (in memory), and the rows other processes changed. */
  private async tick(): Promise<void> {
    const now = Date.now();
    for (const key of this.byId.values()) {
      const why = endOf(key, now);
      if (why && !this.ended.has(key.id)) this.apply(key);
    }
    this.count();
    if (!this.options.poll || this.polling) return;
    this.polling = true;
    const started = Date.now();
    try {
      if (started - this.lastFull >= FULL_RELOAD_MS) await this.reload();
      else {
        for (const key of await this.store.changedSince(this.watermark - POLL_OVERLAP_MS)) {
          const known = this.byId.get(key.id);
          if (!known || known.updatedAt !== key.updatedAt || known.revokedAt !== key.revokedAt) this.apply(key);
        }
        this.count();
        this.watermark = started;
      }
    } catch {
      // The store's health logs its faults (once per episode); known keys keep working meanwhile.
    } finally {
      this.polling = false;
      const waiting = this.nextPoll;
      this.nextPoll = undefined;
      waiting?.resolve();
    }
  }

  private async lookUp(hash: string): Promise<StoredApiKey | undefined> {
    const until = this.negative.get(hash);
    if (until !== undefined) {
      if (until > Date.now()) return undefined;
      this.negative.delete(hash);
    }
    const running = this.inflight.get(hash);
    if (running) return running;
    if (this.lookups >= LOOKUPS_MAX) {
      // A flood of digests: no more database reads; the next poll brings any key created meanwhile.
      if (!this.options.poll) return undefined;
      await this.pollDone();
      return this.byHash.get(hash);
    }
    this.lookups++;
    const lookup = this.store
      .byHash(hash)
      .then((key) => {
        if (key) {
          this.apply(key);
          this.count();
        } else this.remember(hash);
        return key;
      })
      .finally(() => {
        this.lookups--;
        this.inflight.delete(hash);
      });
    this.inflight.set(hash, lookup);
    return lookup;
  }

  private remember(hash: string): void {
    if (this.negative.size >= NEGATIVE_MAX) {
      // The oldest entry goes (a Map keeps insertion order).
      const oldest = this.negative.keys().next().value;
      if (oldest !== undefined) this.negative.delete(oldest);
    }
    this.negative.set(hash, Date.now() + NEGATIVE_TTL_MS);
  }

  private pollDone(): Promise<void> {
    if (!this.nextPoll) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.nextPoll = { promise, resolve };
    }
    return this.nextPoll.promise;
  }

  /** last_used_at, at most once a minute per key from this instance: never a write per request. */
  private touch(key: StoredApiKey, now: number): void {
    const last = this.touched.get(key.id) ?? key.lastUsedAt ?? 0;
    if (now - last < TOUCH_EVERY_MS) return;
    this.touched.set(key.id, now);
    key.lastUsedAt = now;
    this.store.touch(key.id, now).catch(() => {});
  }
}

/** Why a key can no longer be used at `now`, or undefined while it can. */
export function endOf(key: StoredApiKey, now: number): 'revoked' | 'expired' | undefined {
  if (key.revokedAt !== null) return 'revoked';
  if (key.expiresAt !== null && key.expiresAt <= now) return 'expired';
  return undefined;
}

/** The principal a stored key stands for: its owner, its role, its id for usage and limits. */
export function callerOf(key: StoredApiKey): Caller {
  return { name: key.owner, admin: key.role === 'admin', via: 'key', keyId: key.id, keyName: key.name, ...(key.limits ? { limits: key.limits } : {}) };
}
