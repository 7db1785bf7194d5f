import type { SystemLog } from '../../log/systemLog.js';
import type { UsageEntry, UsageStore } from '../../store/usage/types.js';

export interface UsageRecorderOptions {
  /** How long entries gather before one write adds them all (and how long a failed write waits to be tried again). */
  flushMs: number;
  /** Rows (key × model × day) held at most while the store does not take them; entries for more are dropped, and logged. */
  maxRows: number;
}

const DEFAULTS: UsageRecorderOptions = { flushMs: 1000, maxRows: 10_000 };

/**
 * The usage record's writer (docs/team.md "Usage and limits"): each model request's end
 * adds to a row in memory (key, model, UTC day); once a second one transaction adds
 * them all to `usage_daily`. A stream's end never waits for the database. A failed
 * write keeps its rows and is tried again; past `maxRows` rows held, new ones are
 * dropped, and every loss is logged (`usage_dropped`), never silent.
 */
export class UsageRecorder {
  private pending = new Map<string, UsageEntry>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private readonly options: UsageRecorderOptions;
  private closed = false;

  constructor(
    private readonly store: UsageStore,
    private readonly log: SystemLog,
    options: Partial<UsageRecorderOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  record(entry: UsageEntry): void {
    if (!this.merge(this.pending, entry)) {
      this.log.error('usage_dropped', { key: entry.keyId || undefined, model: entry.model, day: entry.day, requests: entry.requests, tokens: entry.promptTokens + entry.completionTokens, rows: this.pending.size, why: 'rows_full' });
    }
    this.schedule(this.options.flushMs);
  }

  /** Tokens recorded here for `keyId` on `day` and not written yet (a tokens_per_day counter adds them to the record's). */
  pendingTokens(day: string, keyId: string): number {
    let tokens = 0;
    for (const e of this.pending.values()) if (e.day === day && e.keyId === keyId) tokens += e.promptTokens + e.completionTokens;
    return tokens;
  }

  /** Writes what is held now (and waits for a write under way). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.writing = this.store
      .add([...batch.values()])
      .catch((err: unknown) => {
        let requests = 0;
        for (const entry of batch.values()) {
          requests += entry.requests;
          if (!this.merge(this.pending, entry)) {
            this.log.error('usage_dropped', { key: entry.keyId || undefined, model: entry.model, day: entry.day, requests: entry.requests, tokens: entry.promptTokens + entry.completionTokens, rows: this.pending.size, why: 'rows_full' });
          }
        }
        this.log.warn('usage_write_failed', { rows: batch.size, requests, error: err instanceof Error ? err.message : String(err) });
        if (!this.closed) this.schedule(this.options.flushMs * 5);
      })
      .finally(() => (this.writing = undefined));
    await this.writing;
  }

  /** Shutdown: one last write; what it cannot write is logged as lost. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    for (const entry of this.pending.values()) {
      this.log.error('usage_dropped', { key: entry.keyId || undefined, model: entry.model, day: entry.day, requests: entry.requests, tokens: entry.promptTokens + entry.completionTokens, why: 'shutdown' });
    }
    this.pending.clear();
  }

  private schedule(ms: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
    this.timer.unref();
  }

  /** Adds `entry` to its row; false when that would be a new row past `maxRows`. */
  private merge(rows: Map<string, UsageEntry>, entry: UsageEntry): boolean {
    const id = `${entry.day}\u0000${entry.keyId}\u0000${entry.model}`;
    const row = rows.get(id);
    if (!row) {
      if (rows.size >= this.options.maxRows) return false;
      rows.set(id, { ...entry });
      return true;
    }
    row.owner = entry.owner;
    row.keyName = entry.keyName;
    row.requests += entry.requests;
    row.promptTokens += entry.promptTokens;
    row.completionTokens += entry.completionTokens;
    row.streamMs += entry.streamMs;
    row.reported += entry.reported;
    row.counted += entry.counted;
    return true;
  }
}
