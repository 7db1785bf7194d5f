import { join } from 'node:path';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import type { LogLevel } from './log/format.js';
import { fdBudget, openFileLimit, type Limits } from './limits.js';
import { parseAllowList, type ImageAllowList, type ImageFetchMode } from './backends/images/address.js';
import { backendSettings, type BackendChoice, type BackendSettings, BACKEND_CHOICES } from './backends/registry.js';
import { ConfigError, int, list, oneOf, type Env } from './env.js';
import { upstreamsConfig, type UpstreamsConfig } from './backends/routing/spec.js';
import { parseModelAliases, type ModelAliases } from './modelAliases.js';
import { parseTrustedUsers, type TrustedUsersConfig } from './trustedUsers.js';
import { loadTracing, type TracingConfig } from './tracing/config.js';
import type { KeyLimits } from './shared/team/admin.js';
import { checkKeyLimits, hasLimits } from './shared/team/keyLimits.js';

export { ConfigError } from './env.js';
export type { BackendChoice } from './backends/registry.js';

/** One entry of JARVIS_API_KEYS / JARVIS_ADMIN_KEYS. Only `name` is ever logged or shown. */
export interface ApiKey {
  name: string;
  key: string;
  admin: boolean;
}

export interface Config {
  port: number;
  host: string;
  /** JARVIS_BACKEND: a backend kind's name, or `auto` (docs/backends.md). */
  backend: BackendChoice;
  /** Each kind's own settings, read by the kind from its variables (docs/backends.md). */
  backends: BackendSettings;
  /** JARVIS_UPSTREAMS: several model servers, routed per request (docs/upstreams.md); undefined: the one backend of JARVIS_BACKEND. */
  upstreams: UpstreamsConfig | undefined;
  model: string | undefined;
  /** JARVIS_MODEL_ALIASES: names a client sends that the backend lacks, mapped to one it has (src/modelAliases.ts). */
  modelAliases: ModelAliases;
  logFile: string;
  logLevel: LogLevel;
  logStdout: boolean;
  /** While the log file cannot be written, how often writing is tried again. */
  logRetryMs: number;
  /** How long a new stream waits for the one it supersedes. */
  cancelTimeoutMs: number;
  /** An upstream that sends no first token within this is given up on (`timeout`). */
  firstTokenTimeoutMs: number;
  /** auto mode on a fallback: how often the kinds before it are asked again (0: never). */
  backendProbeMs: number;
  bodyLimitBytes: number;
  /** How long shutdown waits for streams to end before closing anyway. */
  shutdownGraceMs: number;
  /** JARVIS_ALLOWED_HOSTS: Host names accepted besides loopback and the bound address; `*` = any. */
  allowedHosts: string[];
  /** JARVIS_ALLOWED_ORIGINS: browser origins (besides Jarvis's own) that may call the API, with CORS; `*` = any. */
  allowedOrigins: string[];
  /** JARVIS_API_KEYS and JARVIS_ADMIN_KEYS; none = no authentication. */
  apiKeys: ApiKey[];
  /** JARVIS_ALLOW_NO_AUTH=1: listen on a non-loopback HOST without keys anyway. */
  allowNoAuth: boolean;
  limits: Limits;
  /** JARVIS_DEFAULT_LIMITS: the limits of every non-admin caller whose key has none of its own (docs/team.md "Usage and limits"). */
  defaultLimits: KeyLimits | undefined;
  // Conversations and resume (docs/conversations.md).
  /** Where the SQLite database lives (`jarvis.db`) when DATABASE_URL is not set. */
  dataDir: string;
  /** Postgres connection string; unset: SQLite in `dataDir`. */
  databaseUrl: string | undefined;
  /** How long a stream's event log stays readable after its terminal event. */
  streamRetentionMs: number;
  // Cluster (docs/clusters.md).
  /** REDIS_URL: cluster mode (session rules, Stop and resume across instances); unset: one process, no Redis. */
  redisUrl: string | undefined;
  /** JARVIS_INSTANCE_ID: this instance's name in log lines, /health and metrics (default hostname-pid). */
  instanceId: string;
  /** JARVIS_LEASE_MS: how long an instance's hold on a stream lasts without renewal (renewed every third of it). */
  leaseMs: number;
  /** JARVIS_REDIS_TIMEOUT_MS: the bound on every Redis command. */
  redisTimeoutMs: number;
  /** Images in requests (docs/security.md "Images in requests"). */
  images: ImageConfig;
  /** Files sent with a conversation's prompt (docs/conversations.md "Attachments"). */
  attachments: AttachmentConfig;
  // Retained answers and storage, per key (docs/security.md "Retained answers and storage").
  /** JARVIS_STREAM_LOG_MAX_CHARS: text the stream logs of one process hold, live and retained, all keys together. */
  streamLogMaxChars: number;
  /** JARVIS_STREAM_LOG_KEY_SHARE_CHARS: a key's guaranteed part of it; 0: the budget over the keys holding logs. */
  streamLogKeyShareChars: number;
  /** JARVIS_STORAGE_QUOTA_BYTES: the conversations' bytes one key may store; 0: unlimited. */
  storageQuotaBytes: number;
  // Searches and the store (docs/security.md "Searches and the store").
  /** JARVIS_SEARCH_TIMEOUT_MS: a search (`GET /v1/conversations?q=`) that has not started (SQLite: its turn at the one connection) by then fails (503). */
  searchTimeoutMs: number;
  /** JARVIS_MAX_SEARCHES_PER_CLIENT: searches one key (or, without keys, everyone) may have running at once; more get 429. */
  maxSearchesPerClient: number;
  // Store faults (docs/security.md, "The store unavailable, full or corrupt").
  /** JARVIS_STORE_RETRY_MS: how long an answer's final write is tried again while the store is down. */
  storeRetryMs: number;
  /** JARVIS_ANSWER_SWEEP_MS: how often answers left `streaming` after their stream ended are finished. */
  answerSweepMs: number;
  /** JARVIS_STORE_QUICK_CHECK (1/0): SQLite's `PRAGMA quick_check` at start-up. */
  storeQuickCheck: boolean;
  /** JARVIS_RESPONSES_TTL_MS: how long a stored response of the Responses API is kept (docs/responses.md "Stored responses"). */
  responsesTtlMs: number;
  /** JARVIS_TRUSTED_USER_HEADER, JARVIS_TRUSTED_PROXIES, JARVIS_ADMIN_USERS: people a sign-in proxy names (docs/team.md); undefined: none. */
  trustedUsers: TrustedUsersConfig | undefined;
  /** OTEL_EXPORTER_OTLP_*, OTEL_TRACES_SAMPLER, OTEL_BSP_*…: OpenTelemetry traces (docs/observability.md); undefined: off. */
  tracing: TracingConfig | undefined;
  /** The live timeline's feed (docs/observability.md "The feed"). */
  ops: OpsConfig;
}

/** The ops feed's bounds (docs/observability.md "The feed"). */
export interface OpsConfig {
  /** JARVIS_OPS_RETAIN_MS: how long a lifecycle record stays in the feed's ring (a new reader's replay). */
  retainMs: number;
  /** JARVIS_OPS_RETAIN_RECORDS: the most records the ring holds, whatever their age. */
  retainRecords: number;
  /** JARVIS_OPS_MAX_READERS: feed readers at once, all clients together. */
  maxReaders: number;
  /** JARVIS_OPS_MAX_READERS_PER_CLIENT: feed readers of one key (or, without keys, one address). */
  maxReadersPerClient: number;
  /** JARVIS_OPS_READER_BUFFER_BYTES: a reader's unsent bytes before the feed waits for it to read. */
  readerBufferBytes: number;
}

function loadOps(env: Env): OpsConfig {
  return {
    retainMs: int(env, 'JARVIS_OPS_RETAIN_MS', 10 * 60_000, 1000),
    retainRecords: int(env, 'JARVIS_OPS_RETAIN_RECORDS', 20_000, 10),
    maxReaders: int(env, 'JARVIS_OPS_MAX_READERS', 32, 1),
    maxReadersPerClient: int(env, 'JARVIS_OPS_MAX_READERS_PER_CLIENT', 4, 1),
    readerBufferBytes: int(env, 'JARVIS_OPS_READER_BUFFER_BYTES', 256 * 1024, 1024),
  };
}

// Images in requests (docs/security.md "Images in requests"): what Jarvis fetches, and its bounds.
/** How Jarvis takes the images of chat requests. */
export interface ImageConfig {
  /** JARVIS_IMAGE_FETCH: `public` (public addresses and the allow-list), `allowlist` (the allow-list only), `off` (data: URLs only). */
  fetch: ImageFetchMode;
  /** JARVIS_IMAGE_FETCH_ALLOW: host names and address ranges fetched even when they are not public. */
  allow: ImageAllowList;
  /** JARVIS_IMAGES_PER_REQUEST: image parts in one request, all messages together. */
  perRequest: number;
  /** JARVIS_IMAGE_MAX_BYTES: one image's bytes (a data: URL's decoded size, or a fetched body). */
  maxBytes: number;
  /** JARVIS_IMAGE_MAX_REQUEST_BYTES: all images of one request together, data: URLs and fetched ones. */
  maxRequestBytes: number;
  /** JARVIS_IMAGE_FETCH_TIMEOUT_MS: one fetch, connect to last byte, redirects included. */
  timeoutMs: number;
  /** JARVIS_IMAGE_FETCH_REDIRECTS: redirects followed per image. */
  maxRedirects: number;
  /** JARVIS_IMAGE_FETCHES_PER_CLIENT: requests of one key fetching images at once. */
  fetchesPerClient: number;
  /** JARVIS_IMAGE_FETCHES_MAX: requests fetching images at once, all keys together. */
  fetchesMax: number;
}

function loadImages(env: Env): ImageConfig {
  let allow: ImageAllowList;
  try {
    allow = parseAllowList(list(env, 'JARVIS_IMAGE_FETCH_ALLOW'));
  } catch (err) {
    throw new ConfigError(`JARVIS_IMAGE_FETCH_ALLOW: ${(err as Error).message}`);
  }
  return {
    fetch: oneOf(env, 'JARVIS_IMAGE_FETCH', ['public', 'allowlist', 'off'] as const, 'public'),
    allow,
    perRequest: int(env, 'JARVIS_IMAGES_PER_REQUEST', 16, 0),
    maxBytes: int(env, 'JARVIS_IMAGE_MAX_BYTES', 20 << 20, 1),
    maxRequestBytes: int(env, 'JARVIS_IMAGE_MAX_REQUEST_BYTES', 32 << 20, 1),
    timeoutMs: int(env, 'JARVIS_IMAGE_FETCH_TIMEOUT_MS', 10_000, 1),
    maxRedirects: int(env, 'JARVIS_IMAGE_FETCH_REDIRECTS', 3, 0),
    fetchesPerClient: int(env, 'JARVIS_IMAGE_FETCHES_PER_CLIENT', 4, 1),
    fetchesMax: int(env, 'JARVIS_IMAGE_FETCHES_MAX', 16, 1),
  };
}
// End of images in requests.

/** Files sent with a conversation's prompt (docs/conversations.md "Attachments"); images also keep to ImageConfig's bounds. */
export interface AttachmentConfig {
  /** JARVIS_ATTACHMENTS_MAX: files of one message. */
  maxFiles: number;
  /** JARVIS_ATTACHMENT_MAX_BYTES: one file's bytes (a PDF's, a text file's; an image keeps to JARVIS_IMAGE_MAX_BYTES). */
  maxBytes: number;
  /** JARVIS_ATTACHMENTS_MAX_TOTAL_BYTES: all files of one message together; it also raises those routes' body limit. */
  maxTotalBytes: number;
  /** JARVIS_ATTACHMENT_MAX_CHARS: characters of text kept per file; the rest is cut (`truncated`). */
  maxChars: number;
  /** JARVIS_IMPORT_MAX_BYTES: the body of an import (`POST /v1/conversations` with messages: an export, its files included). */
  importMaxBytes: number;
}

function loadAttachments(env: Env): AttachmentConfig {
  return {
    maxFiles: int(env, 'JARVIS_ATTACHMENTS_MAX', 10, 0),
    maxBytes: int(env, 'JARVIS_ATTACHMENT_MAX_BYTES', 10 << 20, 1),
    maxTotalBytes: int(env, 'JARVIS_ATTACHMENTS_MAX_TOTAL_BYTES', 32 << 20, 1),
    maxChars: int(env, 'JARVIS_ATTACHMENT_MAX_CHARS', 200_000, 1),
    importMaxBytes: int(env, 'JARVIS_IMPORT_MAX_BYTES', 64 << 20, 1),
  };
}

export function loadConfig(env: Env = process.env, argv: string[] = []): Config {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, host: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const merged: Env = { ...env };
  if (values.port !== undefined) merged.PORT = values.port;
  if (values.host !== undefined) merged.HOST = values.host;
  const keys = apiKeys(merged);
  return {
    port: int(merged, 'PORT', 8000),
    host: merged.HOST || '127.0.0.1',
    backend: oneOf(merged, 'JARVIS_BACKEND', BACKEND_CHOICES, 'auto'),
    backends: backendSettings(merged),
    upstreams: upstreamsConfig(merged),
    model: merged.JARVIS_MODEL || undefined,
    modelAliases: parseModelAliases(merged),
    logFile: logFileOf(merged),
    logLevel: oneOf(merged, 'JARVIS_LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info'),
    logStdout: merged.JARVIS_LOG_STDOUT !== '0',
    logRetryMs: int(merged, 'JARVIS_LOG_RETRY_MS', 1000, 10),
    cancelTimeoutMs: int(merged, 'JARVIS_CANCEL_TIMEOUT_MS', 2000),
    firstTokenTimeoutMs: int(merged, 'JARVIS_FIRST_TOKEN_TIMEOUT_MS', 120_000, 1),
    backendProbeMs: int(merged, 'JARVIS_BACKEND_PROBE_MS', 5000),
    bodyLimitBytes: int(merged, 'JARVIS_BODY_LIMIT_BYTES', 1 << 20, 1),
    shutdownGraceMs: int(merged, 'JARVIS_SHUTDOWN_GRACE_MS', 2000),
    allowedHosts: list(merged, 'JARVIS_ALLOWED_HOSTS').map((h) => allowedHost(h)),
    allowedOrigins: list(merged, 'JARVIS_ALLOWED_ORIGINS').map((o) => allowedOrigin(o)),
    apiKeys: keys,
    allowNoAuth: merged.JARVIS_ALLOW_NO_AUTH === '1' || merged.JARVIS_ALLOW_NO_AUTH === 'true',
    limits: loadLimits(merged, keys.length),
    defaultLimits: defaultLimits(merged),
    dataDir: merged.JARVIS_DATA_DIR || 'data',
    databaseUrl: merged.DATABASE_URL || undefined,
    streamRetentionMs: int(merged, 'JARVIS_STREAM_RETENTION_MS', 5 * 60_000),
    redisUrl: merged.REDIS_URL || undefined,
    instanceId: instanceId(merged.JARVIS_INSTANCE_ID),
    leaseMs: int(merged, 'JARVIS_LEASE_MS', 3000, 300),
    redisTimeoutMs: int(merged, 'JARVIS_REDIS_TIMEOUT_MS', 1000, 10),
    images: loadImages(merged),
    attachments: loadAttachments(merged),
    // Retained answers and storage, per key.
    streamLogMaxChars: int(merged, 'JARVIS_STREAM_LOG_MAX_CHARS', 256 * 1024 * 1024, 1024),
    streamLogKeyShareChars: int(merged, 'JARVIS_STREAM_LOG_KEY_SHARE_CHARS', 0),
    storageQuotaBytes: int(merged, 'JARVIS_STORAGE_QUOTA_BYTES', 1024 * 1024 * 1024),
    // Searches and the store.
    searchTimeoutMs: int(merged, 'JARVIS_SEARCH_TIMEOUT_MS', 10_000, 100),
    maxSearchesPerClient: int(merged, 'JARVIS_MAX_SEARCHES_PER_CLIENT', 2, 1),
    // Store faults.
    storeRetryMs: int(merged, 'JARVIS_STORE_RETRY_MS', 10 * 60_000),
    answerSweepMs: int(merged, 'JARVIS_ANSWER_SWEEP_MS', 60_000, 100),
    storeQuickCheck: ['1', 'true'].includes(oneOf(merged, 'JARVIS_STORE_QUICK_CHECK', ['1', '0', 'true', 'false'] as const, '1')),
    responsesTtlMs: int(merged, 'JARVIS_RESPONSES_TTL_MS', 30 * 24 * 3600_000, 1000),
    trustedUsers: parseTrustedUsers(merged),
    tracing: loadTracing(merged),
    ops: loadOps(merged),
  };
}

function instanceId(raw: string | undefined): string {
  if (raw === undefined || raw === '') return `${hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 48)}-${process.pid}`;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(raw)) throw new ConfigError(`JARVIS_INSTANCE_ID must be 1-64 characters of A-Z a-z 0-9 . _ -, got ${JSON.stringify(raw.slice(0, 80))}`);
  return raw;
}

/** A host name, `*.domain` or `*`, lower-cased; ports are not part of the check. */
function allowedHost(entry: string): string {
  const value = entry.toLowerCase().replace(/\.$/, '');
  if (!/^(\*|(\*\.)?[a-z0-9.-]+|\[[0-9a-f:.]+\])$/.test(value)) {
    throw new ConfigError(`JARVIS_ALLOWED_HOSTS: ${JSON.stringify(entry)} is not a host name (write names like jarvis.example.com or *.example.com, without scheme or port)`);
  }
  return value;
}

/** `scheme://host[:port]`, where `*` may stand for any part of the host or port; or `*` alone. */
function allowedOrigin(entry: string): string {
  const value = entry.toLowerCase().replace(/\/+$/, '');
  if (value !== '*' && !/^[a-z][a-z0-9+.-]*:\/\/[a-z0-9.*\-[\]:]+$/.test(value)) {
    throw new ConfigError(`JARVIS_ALLOWED_ORIGINS: ${JSON.stringify(entry)} is not an origin (write scheme://host[:port], e.g. https://chat.example.com)`);
  }
  return value;
}

const KEY_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const MIN_KEY_LENGTH = 16;

/** `name:key,name:key` from JARVIS_API_KEYS (users) and JARVIS_ADMIN_KEYS (operators). */
function apiKeys(env: Env): ApiKey[] {
  const keys: ApiKey[] = [];
  for (const [variable, admin] of [['JARVIS_API_KEYS', false], ['JARVIS_ADMIN_KEYS', true]] as const) {
    for (const entry of list(env, variable)) {
      const colon = entry.indexOf(':');
      const name = colon > 0 ? entry.slice(0, colon) : '';
      const key = colon > 0 ? entry.slice(colon + 1) : '';
      // Never echo the entry: it holds a secret.
      if (!KEY_NAME.test(name)) throw new ConfigError(`${variable}: every entry is name:key, the name 1-64 characters of A-Z a-z 0-9 . _ - (entry ${keys.length + 1} is not)`);
      if (key.length < MIN_KEY_LENGTH || /\s/.test(key)) {
        throw new ConfigError(`${variable}: the key of "${name}" must be at least ${MIN_KEY_LENGTH} characters without spaces (e.g. openssl rand -hex 24)`);
      }
      if (keys.some((k) => k.name === name)) throw new ConfigError(`${variable}: the name "${name}" is used twice; names must be unique (they own sessions)`);
      if (keys.some((k) => k.key === key)) throw new ConfigError(`${variable}: the key of "${name}" is also another entry's key`);
      keys.push({ name, key, admin });
    }
  }
  return keys;
}

/** JARVIS_DEFAULT_LIMITS: JSON like {"rpm":60,"tokens_per_day":200000}; unset, empty or {}: no limits. */
function defaultLimits(env: Env): KeyLimits | undefined {
  const raw = env.JARVIS_DEFAULT_LIMITS?.trim();
  if (!raw) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigError(`JARVIS_DEFAULT_LIMITS must be JSON like {"rpm":60,"tokens_per_day":200000}, got ${JSON.stringify(raw.slice(0, 80))}`);
  }
  const checked = checkKeyLimits(value);
  if ('error' in checked) throw new ConfigError(`JARVIS_DEFAULT_LIMITS: ${checked.error}`);
  return hasLimits(checked.limits) ? checked.limits : undefined;
}

function loadLimits(env: Env, keyCount: number): Limits {
  const budget = fdBudget(openFileLimit());
  const maxStreams = int(env, 'JARVIS_MAX_STREAMS', budget.maxStreams, 1);
  const maxConnections = int(env, 'JARVIS_MAX_CONNECTIONS', budget.maxConnections, 1);
  const limits: Limits = {
    maxConnections,
    headersTimeoutMs: int(env, 'JARVIS_HEADERS_TIMEOUT_MS', 6000, 1),
    requestTimeoutMs: int(env, 'JARVIS_REQUEST_TIMEOUT_MS', 30_000, 1),
    keepAliveTimeoutMs: int(env, 'JARVIS_KEEPALIVE_TIMEOUT_MS', 5000, 1),
    maxStreams,
    maxStreamsPerClient: int(env, 'JARVIS_MAX_STREAMS_PER_CLIENT', streamShareOf(maxStreams, keyCount), 1),
    maxTokensDefault: int(env, 'JARVIS_MAX_TOKENS_DEFAULT', 4096, 1),
    stallTimeoutMs: int(env, 'JARVIS_STALL_TIMEOUT_MS', 60_000, 1),
    maxStreamMs: int(env, 'JARVIS_MAX_STREAM_MS', 900_000, 1),
    maxReplyBytes: int(env, 'JARVIS_MAX_REPLY_BYTES', 8 << 20, 1),
    ...fairShares(env, maxConnections, keyCount),
    perClientSet: { connections: Boolean(env.JARVIS_MAX_CONNECTIONS_PER_CLIENT), streams: Boolean(env.JARVIS_MAX_STREAMS_PER_CLIENT) },
  };
  // Node refuses a headers timeout longer than the request timeout.
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new ConfigError(`JARVIS_HEADERS_TIMEOUT_MS (${limits.headersTimeoutMs}) must not exceed JARVIS_REQUEST_TIMEOUT_MS (${limits.requestTimeoutMs})`);
  }
  return limits;
}

// Fair shares between API keys (docs/security.md "Connections, feed followers and reattach readers").
type FairShares = Pick<Limits, 'maxConnectionsPerClient' | 'maxFollowersPerClient' | 'maxReadersPerClient' | 'followerBufferBytes' | 'readerBufferBytes'>;

/**
 * What one key may hold of a cap by default: with two keys or more, half (rounded
 * up), so that another key always finds the other half; with one key or none,
 * all of it (there is no one else to leave room for).
 */
export function shareOf(cap: number, keyCount: number): number {
  return keyCount >= 2 ? Math.ceil(cap / 2) : cap;
}

/** A client's default share of the live streams: as shareOf, and never more than 256. */
export function streamShareOf(maxStreams: number, keyCount: number): number {
  return Math.min(shareOf(maxStreams, keyCount), 256);
}

function fairShares(env: Env, maxConnections: number, keyCount: number): FairShares {
  return {
    maxConnectionsPerClient: int(env, 'JARVIS_MAX_CONNECTIONS_PER_CLIENT', shareOf(maxConnections, keyCount), 1),
    maxFollowersPerClient: int(env, 'JARVIS_MAX_FOLLOWERS_PER_CLIENT', 32, 1),
    maxReadersPerClient: int(env, 'JARVIS_MAX_READERS_PER_CLIENT', 64, 1),
    followerBufferBytes: int(env, 'JARVIS_FOLLOWER_BUFFER_BYTES', 1 << 20, 1024),
    readerBufferBytes: int(env, 'JARVIS_READER_BUFFER_BYTES', 64 * 1024, 1024),
  };
}

/** The system log's path: JARVIS_LOG_FILE, else logs/system.log (also where `jarvis diagnose` looks first). */
export function logFileOf(env: Env): string {
  return env.JARVIS_LOG_FILE || join('logs', 'system.log');
}
