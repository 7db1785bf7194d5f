// The wire shapes of a team's Jarvis (docs/team.md): keys managed at run time, who is
// calling, usage per key and the limits that bound it. Protocol-neutral, free of Node-
// or DOM-only imports: the server, the client core, the CLI and the UI share them.

/** What a key's (or a signed-in person's) use is bounded by; an absent field is no bound. */
export interface KeyLimits {
  /** Model requests per minute. */
  rpm?: number;
  /** Prompt and completion tokens per minute. */
  tpm?: number;
  /** Answers streaming at once, on every instance together. */
  max_streams?: number;
  /** Prompt and completion tokens per UTC day; an answer that reaches it is cut (`length`). */
  tokens_per_day?: number;
}

/** The names of KeyLimits, as a 429 names the one broken. */
export type LimitName = keyof KeyLimits;
export const LIMIT_NAMES: readonly LimitName[] = ['rpm', 'tpm', 'max_streams', 'tokens_per_day'];

export type KeyRole = 'user' | 'admin';

/** A stored key as listed (`GET /v1/admin/keys`): never the key itself, only its first characters. */
export interface ApiKeyJson {
  object: 'api_key';
  /** `key_…`: what DELETE takes. */
  id: string;
  name: string;
  /** The person it belongs to: the owner of what it creates (conversations, sessions, usage). */
  owner: string;
  role: KeyRole;
  /** The key's first characters (`jk-abc123…`), to tell keys apart. */
  prefix: string;
  /** ISO 8601 times, like every time on Jarvis's own API. */
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  /** Who created it: a principal's name ('' without keys; `cli` from `jarvis keys` on the database). */
  created_by: string;
  limits: KeyLimits | null;
}

/** `POST /v1/admin/keys`'s answer: the key, shown this once. */
export interface CreatedApiKeyJson extends ApiKeyJson {
  key: string;
}

/** `POST /v1/admin/keys`'s body. */
export interface NewApiKeyJson {
  name: string;
  /** Default: the name. */
  owner?: string;
  /** Default: `user`. */
  role?: KeyRole;
  /** ISO 8601, in the future. */
  expires_at?: string | null;
  limits?: KeyLimits | null;
}

/** `GET /v1/me`: who the caller is, as Jarvis sees it (the UI shows it, and its admin page when `admin`). */
export interface MeJson {
  object: 'principal';
  /** The owner of what the caller creates ('' when Jarvis runs without authentication). */
  name: string;
  admin: boolean;
  /** How the caller signed in. */
  via: 'none' | 'env_key' | 'key' | 'user';
  /** The key's name (a stored or JARVIS_API_KEYS key), or the user's name. */
  key_name: string | null;
  /** The stored key's id (`key_…`); null otherwise. */
  key_id: string | null;
  limits: KeyLimits | null;
}

/** Where a row's token counts come from: the model server's own usage, or Jarvis's count of the streamed tokens. */
export interface UsageSources {
  /** Requests whose tokens the model server reported. */
  reported: number;
  /** Requests whose tokens Jarvis counted itself (the server reported none: a cancelled answer, a server without usage). */
  counted: number;
}

/** One key's use of one model on one UTC day. */
export interface UsageRowJson {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  owner: string;
  /** `key_…`, `env:<name>` for a JARVIS_API_KEYS key, `user:<name>` for a signed-in user, '' without authentication. */
  key_id: string;
  key_name: string;
  model: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  /** Time spent streaming answers, in milliseconds. */
  stream_ms: number;
  sources: UsageSources;
}

/** `GET /v1/usage?from=YYYY-MM-DD&to=YYYY-MM-DD[&owner=…][&key_id=…]`. */
export interface UsageJson {
  object: 'usage';
  from: string;
  to: string;
  data: UsageRowJson[];
  totals: { requests: number; prompt_tokens: number; completion_tokens: number; stream_ms: number };
}

/** `GET /v1/admin/keys`: newest first; revoked keys only with `?include_revoked=true`. */
export interface ApiKeyListJson {
  object: 'list';
  data: ApiKeyJson[];
}

/** `PATCH /v1/admin/keys/{id}`'s body: what may change on a key (its owner and role may not: make a new key). */
export interface ApiKeyPatchJson {
  name?: string;
  expires_at?: string | null;
  limits?: KeyLimits | null;
}
