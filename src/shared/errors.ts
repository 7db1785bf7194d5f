// Every error Jarvis can send: its code, its HTTP status and the words of its message
// (docs/errors.md is the catalogue people read, docs/api.md the wire shapes). Protocol-neutral:
// each protocol maps a WireError to its own shape (src/server/protocols/*/errors.ts), and the
// client core may read the codes. Keep it free of Node- or DOM-only imports.

import type { LimitName } from './team/admin.js';
import { refusalWords } from './team/keyLimits.js';

/** The words of a message: a template over the facts the thrower knows. */
type Template<P> = (params: P) => string;

interface ErrorSpec<P> {
  /** The HTTP status a client is given (an upstream's own 4xx overrides it for `upstream_rejected`). */
  status: number;
  message: Template<P>;
  /** Seconds a client should wait before trying again: the reply's `Retry-After` header. */
  retryAfterS?: number;
}

function spec<P = void>(status: number, message: Template<P>, retryAfterS?: number): ErrorSpec<P> {
  return retryAfterS === undefined ? { status, message } : { status, message, retryAfterS };
}

/** The message was worded where the failure was seen (a backend, the store, the cluster, a validator). */
type Said = { message: string };
const said = ({ message }: Said): string => message;

/** A per-client bound (src/server/fairShare/clientCap.ts): the count, what is counted, its variable. */
type CapFacts = { held: number; what: string; variable: string; advice: string };
const capMessage = ({ held, what, variable, advice }: CapFacts): string => `this client already has ${held} ${what}, the most allowed (${variable}); ${advice}`;

const SESSION_ID_RULE = '1-128 characters of A-Z a-z 0-9 . _ : -';

export const ERRORS = {
  // The model server (src/backends/): these may also end a stream that has begun.
  /** The model server cannot be reached. */
  upstream_unavailable: spec<Said>(502, said),
  /** The model server failed, or answered with something Jarvis cannot read. */
  upstream_error: spec<Said>(502, said),
  /** The model server refused the request with a 4xx (context too long, no tools…); the client gets that status. */
  upstream_rejected: spec<Said>(400, said),
  /** The model server did not answer in time. */
  timeout: spec<Said>(504, said),
  /** The backend cannot do this at all (the demo backend has no embeddings). */
  unsupported: spec<Said>(501, said),
  /** This backend cannot serve a part of the request another backend could (fill-in-the-middle on the demo); the message names both. */
  unsupported_by_backend: spec<Said>(400, said),
  model_not_found: spec<{ model: string } | Said>(404, (p) => ('message' in p ? p.message : `The model '${p.model}' does not exist`)),
  /** The embedded engine's sequences and queue are full (JARVIS_EMBEDDED_PARALLEL, JARVIS_EMBEDDED_QUEUE). */
  engine_busy: spec<Said>(503, said, 1),
  /** Every server of the model is at its `max_parallel` and the model's queue is full, or the wait was too long (docs/upstreams.md "Queues"). */
  upstream_busy: spec<Said>(503, said, 2),
  /** The embedded engine (node-llama-cpp) is not installed, or llama.cpp could not start. */
  engine_unavailable: spec<Said>(503, said),
  no_model: spec<{ backend: string }>(
    400,
    ({ backend }) => `the ${backend} backend has no model; name one in "model", set JARVIS_MODEL, or pull one (ollama pull llama3.2)`,
  ),

  // Jarvis itself.
  internal_error: spec<Partial<Said> | void>(500, (p) => (p && p.message) || 'Jarvis failed to handle this request; see the system log'),
  /** Cluster mode: Redis cannot be reached, so the session rules cannot be kept. */
  cluster_unavailable: spec<Said>(503, said),
  /** Cluster mode: the instance running the stream stopped renewing its lease; the answer ends here. */
  lost: spec<Said>(502, said),
  /** Cluster mode: the stream's log vanished from Redis and was not written back in time; reload the answer. */
  answer_log_lost: spec<Said>(502, said),
  shutting_down: spec(503, () => 'Jarvis is shutting down; try again once it is back'),
  server_busy: spec<{ max: number }>(503, ({ max }) => `Jarvis is at its connection limit (${max}); retry shortly`),
  metrics_disabled: spec(404, () => 'this server was started without Prometheus metrics'),
  backup_running: spec(409, () => 'a backup is being written now; wait for it to finish'),

  // The request as sent.
  invalid_request: spec<Said>(400, said),
  /** Another 4xx of the HTTP layer (Fastify); its own code is in `detail`, its status is kept. */
  bad_request: spec<Said>(400, said),
  invalid_json: spec<{ reason: string }>(400, ({ reason }) => `request body is not valid JSON: ${reason}`),
  json_too_deep: spec<{ max: number }>(400, ({ max }) => `request body nests deeper than ${max} levels`),
  body_too_large: spec(413, () => 'request body is larger than the limit (JARVIS_BODY_LIMIT_BYTES)'),
  invalid_session_id: spec<{ in: 'header' | 'path' }>(400, (p) =>
    p.in === 'header' ? `X-Session-Id must be ${SESSION_ID_RULE}` : `session ids are ${SESSION_ID_RULE}`,
  ),
  invalid_context: spec(
    400,
    () =>
      '"context" was not made by this Jarvis: it can continue only a context it returned (it cannot read token ids from an Ollama server); send the conversation to /api/chat instead',
  ),
  not_found: spec<{ method: string; path: string } | Said>(404, (p) => ('message' in p ? p.message : `no route for ${p.method} ${p.path}`)),
  stream_not_found: spec<{ id: string }>(404, ({ id }) => `no stream ${id.slice(0, 128)} (unknown, or ended more than JARVIS_STREAM_RETENTION_MS ago)`),
  conversation_not_found: spec<{ id: string }>(404, ({ id }) => `no conversation ${id.slice(0, 128)}`),

  // The store of conversations (src/store/).
  /** The conversation changed meanwhile (an edit of a message that moved on). */
  conflict: spec<Said>(409, said),
  /** The store cannot be reached (Postgres down, disk failing); retry later. */
  store_unavailable: spec<Said>(503, said),

  // The request guards (src/server/http/guards/, docs/security.md).
  host_not_allowed: spec<{ host: string }>(
    403,
    ({ host }) => `Host ${JSON.stringify(host.slice(0, 100))} is not allowed; add its name to JARVIS_ALLOWED_HOSTS if Jarvis should answer to it`,
  ),
  origin_not_allowed: spec<{ origin: string } | { site: string }>(403, (p) =>
    'origin' in p
      ? `Origin ${JSON.stringify(p.origin.slice(0, 100))} is not allowed; list it in JARVIS_ALLOWED_ORIGINS if that page should use Jarvis`
      : `a request from another site (Sec-Fetch-Site: ${p.site}) without an allowed Origin is not allowed`,
  ),
  missing_api_key: spec(401, () => 'this Jarvis needs an API key: send Authorization: Bearer <key> (or x-api-key: <key>)'),
  invalid_api_key: spec(401, () => 'the API key is not valid'),
  /** A stored key (docs/team.md "3. Keys") that an admin revoked. */
  api_key_revoked: spec<{ name: string; at: string }>(401, ({ name, at }) => `this key ("${name}") was revoked on ${at}; ask an admin of this Jarvis for a new one`),
  /** A stored key past its `expires_at`. */
  api_key_expired: spec<{ name: string; at: string }>(401, ({ name, at }) => `this key ("${name}") expired on ${at}; ask an admin of this Jarvis for a new one`),
  admin_required: spec<{ key: string }>(403, ({ key }) => `this route needs an admin key (JARVIS_ADMIN_KEYS, a stored key of role admin, or a user in JARVIS_ADMIN_USERS); "${key}" is not one`),
  /** The sign-in proxy's header is configured, and the request came with neither a signed-in user nor a key (docs/team.md). */
  sign_in_required: spec<{ header: string }>(
    401,
    ({ header }) => `this Jarvis signs people in through its sign-in proxy: open it through the proxy's address (which sends ${header}), or send an API key (Authorization: Bearer <key>)`,
  ),
  /** The sign-in proxy named a user Jarvis cannot take: the proxy is misconfigured, not the person. */
  invalid_user: spec<{ header: string; problem: string }>(401, ({ header, problem }) => `the user name the sign-in proxy sent in ${header} ${problem}; ask whoever runs the proxy`),
  /** 403, not 429 (SDKs retry a 429, and waiting frees nothing) nor 413 (the request is not too large by itself). */
  storage_quota_exceeded: spec<{ used: string; quota: string; adds?: string }>(
    403,
    ({ used, quota, adds }) =>
      `this key's conversations take ${used} of its storage quota of ${quota}` +
      (adds ? `, and this request would add ${adds}` : '') +
      '; delete conversations to free room (the quota is JARVIS_STORAGE_QUOTA_BYTES)',
  ),

  // Fair shares (docs/limits.md): 429s with Retry-After.
  too_many_streams: spec<{ max: number }>(429, ({ max }) => `Jarvis is running its maximum of ${max} streams (JARVIS_MAX_STREAMS); retry shortly`),
  too_many_streams_for_client: spec<{ held: number }>(
    429,
    ({ held }) => `this client already has ${held} live streams, the most allowed (JARVIS_MAX_STREAMS_PER_CLIENT); stop one or retry shortly`,
  ),
  too_many_connections_for_client: spec<{ held: number; max?: number }>(429, ({ held, max }) =>
    max === undefined
      ? `this key already has ${held} requests in progress, the most allowed (JARVIS_MAX_CONNECTIONS_PER_CLIENT); close one or retry shortly`
      : `Jarvis is at its connection limit (JARVIS_MAX_CONNECTIONS=${max}) and this key holds ${held} of them, the most of any key; close some or retry shortly`,
  ),
  too_many_followers_for_client: spec<CapFacts>(429, capMessage),
  too_many_readers_for_client: spec<CapFacts>(429, capMessage),
  too_many_searches: spec<CapFacts>(429, capMessage),
  /** The ops feed's readers (docs/observability.md "The feed"): per client, and in all. */
  too_many_ops_readers_for_client: spec<CapFacts>(429, capMessage),
  too_many_ops_readers: spec<{ max: number }>(429, ({ max }) => `Jarvis already serves ${max} ops-feed readers, the most allowed (JARVIS_OPS_MAX_READERS); close one or retry shortly`),
  /**
   * A key's own limit (docs/team.md "Usage and limits"): rpm, tpm, max_streams or tokens_per_day.
   * Its `Retry-After` is the seconds until the limit's window frees (set by the thrower).
   */
  rate_limited: spec<{ limit: LimitName; value: number; retryAfterS: number }>(429, ({ limit, value, retryAfterS }) => refusalWords(limit, value, retryAfterS)),
  too_many_image_fetches: spec<{ held: number; all?: boolean }>(429, ({ held, all }) =>
    all
      ? `Jarvis already has ${held} requests with fetched images in progress, its maximum (JARVIS_IMAGE_FETCHES_MAX); retry shortly or send the images as data: URLs`
      : `this client (its API key, or its address without keys) already has ${held} requests with fetched images in progress, the most allowed (JARVIS_IMAGE_FETCHES_PER_CLIENT); retry shortly or send the images as data: URLs`,
  ),

  // Images (docs/limits.md).
  too_many_images: spec<{ count: number; max: number }>(
    400,
    ({ count, max }) => `this request has ${count} images; Jarvis takes at most ${max} per request (JARVIS_IMAGES_PER_REQUEST)`,
  ),
  image_urls_disabled: spec<{ ordinal: number }>(
    400,
    ({ ordinal }) => `image ${ordinal} of this request is an http(s) URL; this Jarvis takes images only as data: URLs (data:image/png;base64,…)`,
  ),
  image_too_large: spec<{ ordinal: number; size: string; max: string } | { total: string }>(413, (p) =>
    'total' in p
      ? `the images of this request are more than ${p.total} together, the most Jarvis takes per request (JARVIS_IMAGE_MAX_REQUEST_BYTES)`
      : `image ${p.ordinal} of this request is ${p.size}; Jarvis takes images of up to ${p.max} (JARVIS_IMAGE_MAX_BYTES)`,
  ),
  image_fetch_failed: spec<{ url: string; policy: string }>(400, ({ url, policy }) => `the image at ${url} could not be fetched (${policy})`),

  // Attachments of a conversation's prompt (docs/conversations.md "Attachments").
  /** A file that cannot be attached: not a data: URL, an image type the models do not read, a binary file, a PDF that cannot be read. */
  invalid_attachment: spec<{ name: string; why: string }>(400, ({ name, why }) => `the file ${JSON.stringify(name)} cannot be attached: ${why}`),
  too_many_attachments: spec<{ count: number; max: number }>(
    400,
    ({ count, max }) => `this message has ${count} files; Jarvis takes at most ${max} per message (JARVIS_ATTACHMENTS_MAX)`,
  ),
  attachment_too_large: spec<{ name: string; size: string; max: string } | { total: string }>(413, (p) =>
    'total' in p
      ? `the files of this message are more than ${p.total} together, the most Jarvis takes per message (JARVIS_ATTACHMENTS_MAX_TOTAL_BYTES)`
      : `the file ${JSON.stringify(p.name)} is ${p.size}; Jarvis takes files of up to ${p.max} (JARVIS_ATTACHMENT_MAX_BYTES)`,
  ),
  /** The model's server lists its capabilities, and `vision` is not among them. */
  model_lacks_vision: spec<{ model: string; capabilities: string[] }>(
    400,
    ({ model, capabilities }) =>
      `${model} does not take images (its model server lists: ${capabilities.join(', ') || 'nothing'}). Pick a model that has vision, or remove the image.`,
  ),
};

/** Every error code Jarvis can send: a closed union. */
export type JarvisErrorCode = keyof typeof ERRORS;

/** The facts the message template of `code` takes. */
export type ErrorParams<C extends JarvisErrorCode> = (typeof ERRORS)[C] extends ErrorSpec<infer P> ? P : never;


/** `params` (left out for a code whose message takes none), then any options. */
export type ErrorArgs<C extends JarvisErrorCode, O = never> = void extends ErrorParams<C>
  ? [params?: ErrorParams<C>, options?: O]
  : [params: ErrorParams<C>, options?: O];

/** The codes that may end a stream as its `error` event (src/shared/events.ts). */
export const STREAM_ERROR_CODES = [
  'upstream_unavailable',
  'upstream_error',
  'upstream_rejected',
  'timeout',
  'unsupported',
  'unsupported_by_backend',
  'model_not_found',
  'no_model',
  'engine_busy',
  'upstream_busy',
  'engine_unavailable',
  'invalid_request',
  'internal_error',
  'cluster_unavailable',
  'lost',
  'answer_log_lost',
] as const satisfies readonly JarvisErrorCode[];
export type StreamErrorCode = (typeof STREAM_ERROR_CODES)[number];

/** Why a request was refused before any work was done (the request guards, src/server/http/guards/). */
export const GUARD_ERROR_CODES = [
  'host_not_allowed',
  'origin_not_allowed',
  'missing_api_key',
  'invalid_api_key',
  'api_key_revoked',
  'api_key_expired',
  'admin_required',
  'sign_in_required',
  'invalid_user',
  'storage_quota_exceeded',
] as const satisfies readonly JarvisErrorCode[];
export type GuardErrorCode = (typeof GUARD_ERROR_CODES)[number];

export const ERROR_CODES = Object.keys(ERRORS) as JarvisErrorCode[];

export function isErrorCode(code: string): code is JarvisErrorCode {
  return Object.hasOwn(ERRORS, code);
}

/** The HTTP status of `code` (the registry's; an upstream_rejected event carries its own). */
export function errorStatus(code: JarvisErrorCode): number {
  return ERRORS[code].status;
}

/** The `Retry-After` header a reply with `code` carries, when its registry entry names one. */
export function retryHeaders(code: JarvisErrorCode): Record<string, string> {
  const seconds = (ERRORS[code] as ErrorSpec<unknown>).retryAfterS;
  return seconds === undefined ? {} : { 'retry-after': String(seconds) };
}

/** The message of `code`, rendered from its template. */
export function errorMessage<C extends JarvisErrorCode>(code: C, ...[params]: ErrorArgs<C>): string {
  return (ERRORS[code].message as Template<ErrorParams<C> | undefined>)(params);
}

/**
 * An error as every protocol maps it (src/server/protocols/{openai,ollama,jarvis}/errors.ts):
 * `message` is for people, `detail` the technical cause (errno, upstream status) also in the log.
 */
export interface WireError {
  code: JarvisErrorCode;
  message: string;
  status: number;
  /** The request field at fault, as OpenAI's `param`. */
  param: string | null;
  detail?: string;
}

export interface WireErrorOptions {
  /** Another status than the registry's (an upstream's own 4xx, a listing failure's 502). */
  status?: number;
  param?: string | null;
  detail?: string;
}

/** `code` with its message rendered: `wireError('model_not_found', { model })`. */
export function wireError<C extends JarvisErrorCode>(code: C, ...args: ErrorArgs<C, WireErrorOptions>): WireError {
  const [params, options] = args as [ErrorParams<C>, WireErrorOptions?];
  return withMessage(code, (ERRORS[code].message as Template<ErrorParams<C>>)(params), options);
}

/** `code` with a message already worded elsewhere (a backend's, an error event's). */
export function withMessage(code: JarvisErrorCode, message: string, options: WireErrorOptions = {}): WireError {
  return { code, message, status: options.status ?? errorStatus(code), param: options.param ?? null, ...(options.detail ? { detail: options.detail } : {}) };
}

/** A stream's `error` event (src/shared/events.ts) as the error it maps: its own status (an upstream's 4xx) or the registry's. */
export function errorOfEvent(event: { code: JarvisErrorCode; message: string; status?: number; detail?: string }): WireError {
  return withMessage(event.code, event.message, { ...(event.status === undefined ? {} : { status: event.status }), ...(event.detail ? { detail: event.detail } : {}) });
}

/** The technical cause an error carries for the log and the wire, when it has one as text. */
export function technicalDetail(err: unknown): string | undefined {
  const detail = typeof err === 'object' && err !== null ? (err as { detail?: unknown }).detail : undefined;
  return typeof detail === 'string' && detail !== '' ? detail : undefined;
}
