// The `usage_daily` table (docs/team.md "Usage and limits"): one row per key, model and UTC day.

export interface UsageDailyTable {
  /** `YYYY-MM-DD`, UTC: the day the request ended. */
  day: string;
  /** The caller's owner (a key's owner, a user's name; '' without authentication). */
  owner: string;
  /** `key_…`, `env:<name>`, `user:<name>`, or '' without authentication. */
  key_id: string;
  key_name: string;
  model: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  stream_ms: number;
  /** Requests whose tokens the model server reported. */
  reported: number;
  /** Requests whose tokens Jarvis counted (no usage from the server, a cancelled or cut answer). */
  counted: number;
}
