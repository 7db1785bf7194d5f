// The Jarvis wire events (docs/api.md). The one definition: the server writes these,
// the web UI and the CLI read them. Keep it free of Node- or DOM-only imports.

import type { StreamErrorCode } from './errors.js';
import type { LimitName } from './team/admin.js';

/** Roles of the plain-text messages the web UI and the CLI send. The OpenAI adapter accepts more (`developer`, `tool`). */
export type Role = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: Role;
  content: string;
}

/** A function call the model asked for; `arguments` is the JSON text the model wrote. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** `revoked`: the key that started it was revoked, or expired, meanwhile (docs/team.md "3. Keys"). */
export type CancelReason = 'superseded' | 'stopped' | 'client_closed' | 'shutdown' | 'revoked';

/** The codes an `error` event may carry (their statuses and words: src/shared/errors.ts, docs/errors.md). */
export type ErrorCode = StreamErrorCode;
export type { GuardErrorCode, JarvisErrorCode } from './errors.js';

/** Why a reply ended normally: OpenAI's finish reasons, as the upstream reported them. */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

interface EventBase {
  stream_id: string;
  session_id: string;
}

/**
 * A stream's first event says `thinking`; an engine that must load the model
 * first (the embedded engine, docs/embedded.md) sends a second one,
 * `loading_model`, before the load: the first token may take seconds more.
 * With several model servers (docs/upstreams.md), `queued` says every server of the
 * model is at its `max_parallel` and gives the stream's place in the queue (sent
 * again as it moves up); `routed` names the server that answers, before its first token.
 */
export interface StatusEvent extends EventBase {
  type: 'status';
  status: 'thinking' | 'loading_model' | 'queued' | 'routed';
  trace_id: string;
  model: string;
  /** `queued`: 1 is next. */
  position?: number;
  /** `routed`: the server's name (JARVIS_UPSTREAMS). */
  upstream?: string;
}

/** Token log probabilities (docs/api.md "Logprobs and n"; more in logprobs.ts). One alternative token: OpenAI's `top_logprobs[]` entry (Ollama's has the same fields). */
export interface TopLogprob {
  token: string;
  logprob: number;
  /** The token's UTF-8 bytes, when the upstream sends them (OpenAI does; null for a special token). */
  bytes?: number[] | null;
}

/** The log probability of one generated token, with its most likely alternatives when asked (`top_logprobs`). */
export interface TokenLogprob extends TopLogprob {
  top_logprobs?: TopLogprob[];
}

export interface TokenEvent extends EventBase {
  type: 'token';
  text: string;
  seq: number;
  /** Only when the request asked for them (`logprobs: true`): this token's log probabilities. */
  logprobs?: TokenLogprob[];
}

/**
 * The model's reasoning ("thinking"), streamed before or between tokens. `seq`
 * counts reasoning events (0, 1, 2…) on their own, so token `seq` stays 0, 1, 2…
 * for clients that know only tokens. The order of all events is the order of the
 * stream: a replay must keep the lines in the order they were written.
 */
export interface ReasoningEvent extends EventBase {
  type: 'reasoning';
  text: string;
  seq: number;
}

/** One complete tool call (never a fragment); `index` counts the calls of the reply (0, 1…). */
export interface ToolCallEvent extends EventBase, ToolCall {
  type: 'tool_call';
  index: number;
}

/** How long the answer took, as the server measured it from the stream's start. */
export interface Timings {
  /** Until the first token, reasoning or tool call; absent when none came. */
  ttft_ms?: number;
  duration_ms: number;
}

export interface DoneEvent extends EventBase {
  type: 'done';
  reason: FinishReason;
  usage: Usage;
  /** Optional for readers of older servers and of logs written before it existed. */
  timings?: Timings;
  /**
   * A `length` end at a key's limit rather than the request's own max_tokens: the limit
   * (`tokens_per_day`) and `limit_message` in words (docs/team.md "Usage and limits").
   */
  limit?: LimitName;
  limit_message?: string;
}

export interface CancelledEvent extends EventBase {
  type: 'cancelled';
  reason: CancelReason;
}

export interface ErrorEvent extends EventBase {
  type: 'error';
  code: ErrorCode;
  message: string;
  /** The HTTP status an OpenAI client is given for this error (set for `upstream_rejected`: the upstream's 4xx). */
  status?: number;
  /** The technical cause (errno, the upstream's own words) behind a `message` written for people. */
  detail?: string;
}

export type TerminalEvent = DoneEvent | CancelledEvent | ErrorEvent;
export type JarvisEvent = StatusEvent | TokenEvent | ReasoningEvent | ToolCallEvent | TerminalEvent;

export const TERMINAL_TYPES: ReadonlySet<JarvisEvent['type']> = new Set(['done', 'cancelled', 'error']);

export function isTerminal(event: JarvisEvent): event is TerminalEvent {
  return TERMINAL_TYPES.has(event.type);
}

/** A `length` end at a key's limit, as the other protocols carry it beside their own finish reason: `limit`, `limit_message`. */
export function limitFields(event: TerminalEvent): Pick<DoneEvent, 'limit' | 'limit_message'> {
  return event.type === 'done' && event.limit ? { limit: event.limit, limit_message: event.limit_message } : {};
}

/** `GET /health` body. */
export interface HealthResponse {
  status: 'ok';
  /** The backend kind's name (`ollama`, `openai`, `demo`…: docs/backends.md). */
  backend: string;
  /** How a sentence names it: "Ollama", "the OpenAI-compatible server". */
  backend_label: string;
  model: string | null;
  /**
   * Whether the model server answered its last probe (made in the background, at most every 2 s, only
   * while someone reads /health): `unknown` until the first probe after start-up or a backend switch.
   */
  upstream: 'ok' | 'unreachable' | 'unknown';
  active_streams: number;
  /** `max_tokens` of a request that names none (JARVIS_MAX_TOKENS_DEFAULT, docs/limits.md): what the UI's settings show as the default. */
  max_tokens_default: number;
  uptime_s: number;
  /** `degraded` while the system log cannot be written (its lines are dropped and counted). */
  log: 'ok' | 'degraded';
  log_lines_dropped: number;
  /** Present when the operator should know something, e.g. that Jarvis is exposed without keys. */
  warnings?: string[];
  /** Cluster mode (REDIS_URL): this instance's id and whether Redis answers. */
  cluster?: { instance: string; redis: 'ready' | 'unavailable' };
  /** Auto mode (JARVIS_BACKEND=auto): the kinds it tries, in order (docs/configuration.md "Choosing a backend"). */
  auto_order?: string[];
  /**
   * Every model server, in JARVIS_UPSTREAMS's order (docs/upstreams.md); with the single-upstream
   * variables, one entry named after its kind.
   */
  upstreams: UpstreamStatus[];
}

/** One model server as /health lists it (docs/upstreams.md "Health and failover"). */
export interface UpstreamStatus {
  name: string;
  /** Its backend kind: `ollama`, `openai`, `embedded`, `demo`. */
  kind: string;
  /** Where it is (a URL without credentials, or the models folder); null for the demo. */
  target: string | null;
  state: 'up' | 'down' | 'unknown';
  /** Streams it is answering now (in a cluster: across instances). */
  active: number;
  /** Its `max_parallel`; null when unbounded. */
  max_parallel: number | null;
  weight: number;
  /** Streams waiting for a slot in the queues of the models it serves. */
  queued: number;
  /** The models it serves (after its `models` allow-list). */
  models: string[];
  /** The last failure, in words. */
  last_error?: string;
  /** While down: since when (ISO 8601) and when it is asked again. */
  down_since?: string;
  retry_in_ms?: number;
}

/** `GET /v1/models` body (OpenAI list format). */
export interface ModelList {
  object: 'list';
  /**
   * `upstreams`: the servers that serve the model (docs/upstreams.md); one entry per model, whatever serves it.
   * `capabilities` (`GET /v1/models/{id}` only): what the model's server lists for it (Ollama: completion,
   * tools, vision…); absent when it lists none (docs/conversations.md "Attachments").
   */
  data: Array<{ id: string; object: 'model'; created: number; owned_by: string; upstreams?: string[]; capabilities?: string[] }>;
}

/**
 * Every 4xx/5xx JSON body; also a valid OpenAI error object (src/server/protocols/openai/errors.ts).
 * `code` is one of JarvisErrorCode (src/shared/errors.ts) when this Jarvis wrote it; a reader keeps it
 * a string, for what an older server or a proxy sends.
 */
export interface ApiError {
  error: { code: string; message: string; type: string; param: string | null; detail?: string };
}

export const SESSION_HEADER = 'x-session-id';
export const STREAM_HEADER = 'x-stream-id';
