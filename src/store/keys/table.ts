// The `api_keys` table (docs/team.md "3. Keys"). Times are Unix milliseconds, limits
// JSON text, as in the other tables.

export interface ApiKeysTable {
  /** `key_…`: what the admin API and `jarvis keys revoke` take. */
  id: string;
  name: string;
  /** The principal its requests act as (conversations, sessions, usage). */
  owner: string;
  /** `user` or `admin`. */
  role: string;
  /** SHA-256 of the key, hex (docs/architecture.md says why no slow hash). Unique. */
  hash: string;
  /** The key's first characters, to tell keys apart in lists. */
  prefix: string;
  /** JSON: KeyLimits, or null. */
  limits: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  /** Who created it: a principal's name, '' without authentication, `cli` from `jarvis keys` on the database. */
  created_by: string;
  /** Every change but last_used_at moves it: what the instances poll for (docs/architecture.md). */
  updated_at: number;
}
