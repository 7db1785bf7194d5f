// The usage record (docs/team.md "Usage and limits"): requests, tokens and stream time
// per key, model and UTC day, on the conversation store's database.

/** One key's use of one model on one day: a row, or what one batch adds to it. */
export interface UsageEntry {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  owner: string;
  keyId: string;
  keyName: string;
  model: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  streamMs: number;
  reported: number;
  counted: number;
}

/** Days `from`..`to` (inclusive, `YYYY-MM-DD`), optionally one owner's or one key's. */
export interface UsageQuery {
  from: string;
  to: string;
  owner?: string;
  keyId?: string;
}

export interface UsageStore {
  /** Adds each entry to its row (made when missing), all in one transaction; entries are unique per (day, keyId, model). */
  add(entries: readonly UsageEntry[]): Promise<void>;
  /** The rows of the query, by day, then owner, key and model. */
  list(query: UsageQuery): Promise<UsageEntry[]>;
  /** Prompt and completion tokens of one key on one day, all models together (a tokens_per_day counter's start). */
  tokensOn(day: string, keyId: string): Promise<number>;
  /** Deletes every row of `owner` (a person's data); returns how many. */
  deleteOfOwner(owner: string): Promise<number>;
}
