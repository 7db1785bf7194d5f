/** One key's part of the memory log's text budget: its live and retained (ended) logs. */
export class OwnerAccount {
  /** Text held by this key's logs, live and ended. */
  chars = 0;
  /** Logs held (live and ended); the account goes when the last one does. */
  logs = 0;
  /** This key's ended logs, oldest first: the ones eviction may take. */
  readonly ended = new Set<string>();

  constructor(readonly owner: string) {}
}

/**
 * The memory log's text budget shared between keys (docs/security.md "Retained
 * answers and storage"). Each key that holds a log has a fair share: the budget
 * over the keys holding logs, or the configured per-key share if smaller. Room
 * left in the shares of keys under theirs is kept for them: a key over its share
 * may only append while that room stays free, so its appends get 'full' first,
 * and eviction takes ended logs from keys over their share, the heaviest first,
 * or from the appender itself, never from a key within its share.
 *
 * Per append this is a few additions (the kept room is maintained as the
 * counts change); only a change in the number of keys, and choosing what to
 * evict, look at every account.
 */
export class FairBudget {
  private readonly accounts = new Map<string, OwnerAccount>();
  /** Text held, all keys together. */
  total = 0;
  /** The share of each key now. */
  private share: number;
  /** Σ over accounts of max(0, share − chars): the room kept for keys within their share. */
  private kept = 0;
  /** Ended logs held, all keys together. */
  endedCount = 0;

  constructor(
    readonly max: number,
    /** 0: the budget over the keys holding logs. */
    private readonly perKeyShare: number,
  ) {
    this.share = this.shareFor(1);
  }

  /** The share each key has now (for tests and the docs' figures). */
  get fairShare(): number {
    return this.share;
  }

  /** The account a new log of `owner` is charged to. */
  open(owner: string): OwnerAccount {
    let account = this.accounts.get(owner);
    if (!account) {
      account = new OwnerAccount(owner);
      this.accounts.set(owner, account);
      this.reshare();
    }
    account.logs++;
    return account;
  }

  /** A log of `account` is dropped, with its `chars`. */
  close(account: OwnerAccount, streamId: string, chars: number): void {
    this.charge(account, -chars);
    if (account.ended.delete(streamId)) this.endedCount--;
    if (--account.logs === 0) {
      this.accounts.delete(account.owner);
      this.reshare();
    }
  }

  ended(account: OwnerAccount, streamId: string): void {
    account.ended.add(streamId);
    this.endedCount++;
  }

  charge(account: OwnerAccount, chars: number): void {
    const before = Math.max(0, this.share - account.chars);
    account.chars += chars;
    this.total += chars;
    this.kept += Math.max(0, this.share - account.chars) - before;
  }

  /** Whether `chars` more text of `account` fit: in the budget, and, past its share, without the room kept for the others. */
  fits(account: OwnerAccount, chars: number): boolean {
    if (this.total + chars > this.max) return false;
    if (account.chars + chars <= this.share) return true;
    const keptForOthers = this.kept - Math.max(0, this.share - account.chars);
    return this.total + chars <= this.max - keptForOthers;
  }

  /**
   * Whose ended log goes to make room for `account`: of the keys over their share
   * and the appender itself, the one holding the most text, if it has an ended log.
   */
  victim(account: OwnerAccount): OwnerAccount | undefined {
    let best: OwnerAccount | undefined;
    for (const a of this.accounts.values()) {
      if (a.ended.size === 0 || (a !== account && a.chars <= this.share)) continue;
      if (!best || a.chars > best.chars) best = a;
    }
    return best;
  }

  /** The key with the most ended logs (the count bound takes its oldest). */
  mostEnded(): OwnerAccount | undefined {
    let best: OwnerAccount | undefined;
    for (const a of this.accounts.values()) if (a.ended.size > 0 && (!best || a.ended.size > best.ended.size)) best = a;
    return best;
  }

  private shareFor(keys: number): number {
    const even = Math.floor(this.max / Math.max(1, keys));
    return this.perKeyShare > 0 ? Math.min(this.perKeyShare, even) : even;
  }

  private reshare(): void {
    this.share = this.shareFor(this.accounts.size);
    this.kept = 0;
    for (const a of this.accounts.values()) this.kept += Math.max(0, this.share - a.chars);
  }
}
