import type { KeyLimits, KeyRole } from '../../shared/team/admin.js';

// Keys managed at run time (docs/team.md "3. Keys"): stored hashed, shared by every
// instance on the same database.

export interface StoredApiKey {
  /** `key_…`; also the caller's keyId (usage and limits are kept per it). */
  id: string;
  name: string;
  owner: string;
  role: KeyRole;
  /** SHA-256 of the key, hex. */
  hash: string;
  prefix: string;
  limits: KeyLimits | null;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
  createdBy: string;
  updatedAt: number;
}

export type NewStoredApiKey = Omit<StoredApiKey, 'revokedAt' | 'lastUsedAt' | 'updatedAt'>;

/** What PATCH may change; an absent field stays. */
export interface ApiKeyPatch {
  name?: string;
  limits?: KeyLimits | null;
  expiresAt?: number | null;
}

export interface KeyStore {
  create(key: NewStoredApiKey): Promise<StoredApiKey>;
  get(id: string): Promise<StoredApiKey | undefined>;
  byHash(hash: string): Promise<StoredApiKey | undefined>;
  /** Keys whose prefix starts with `prefix`: how `jarvis keys revoke jk-abc` finds one. */
  byPrefix(prefix: string): Promise<StoredApiKey[]>;
  /** Newest first; revoked ones only when asked. */
  list(options: { includeRevoked: boolean }): Promise<StoredApiKey[]>;
  /** Keys neither revoked nor expired at `now`. */
  countActive(now: number): Promise<number>;
  /** Every key changed after `since` (updated_at), for the instances' directories. */
  changedSince(since: number): Promise<StoredApiKey[]>;
  /** Revokes the key (at `now`, the first time: idempotent); undefined when there is no such key. */
  revoke(id: string, now: number): Promise<StoredApiKey | undefined>;
  update(id: string, patch: ApiKeyPatch, now: number): Promise<StoredApiKey | undefined>;
  /** Records a use (at most once a minute per key and instance: not a change the instances poll for). */
  touch(id: string, at: number): Promise<void>;
  /** Every key of `owner`, revoked ones too, newest first (a person's data). */
  ofOwner(owner: string): Promise<StoredApiKey[]>;
  /**
   * A person deleted: their keys are revoked (when not yet) and keep no name or owner. The rows stay,
   * changed, so that every instance's directory sees the revocation at its next look (a deleted row
   * would not be seen); returns them as changed.
   */
  forgetOwner(owner: string, now: number): Promise<StoredApiKey[]>;
}
