// The Jarvis wire events (docs/api.md). The one definition: the server writes these,
// the web UI and the CLI read them. Keep it free of Node- or DOM-only imports.

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

export type CancelReason = 'superseded' | 'stopped' | 'client_closed' | 'shutdown';

export type ErrorCode =
  | 'upstream_unavailable'
  | 'upstream_error'
  | 'model_not_found'
  | 'no_model'
  | 'timeout'
  | 'internal_error'
  /** The backend cannot do this at all (the demo backend has no embeddings). */
  | 'unsupported'
  /** The request cannot be served as given (an image that cannot be fetched…). */
  | 'invalid_request'
  /** The upstream refused the request with a 4xx (context too long, "does not support tools"…); `status` is its status. */
  | 'upstream_rejected'
  /** Cluster mode: Redis cannot be reached, so the session rules cannot be kept (503). */
  | 'cluster_unavailable'
  /** Cluster mode: the instance running the stream stopped renewing its lease (it died or hung); the answer ends here. */
  | 'lost'
  /**
   * Cluster mode: the stream's log vanished from Redis (restarted empty) and its instance did not
   * write it back in time; this reader ends here, the answer itself may have gone on (reload it).
   */
  | 'answer_log_lost';

/** Why a request was refused before any work was done (the request guards, src/server/guards/). */
export type GuardErrorCode =
  | 'host_not_allowed'
  | 'origin_not_allowed'
  | 'missing_api_key'
  | 'invalid_api_key'
  | 'admin_required'
  /** The key's conversations fill its storage quota (JARVIS_STORAGE_QUOTA_BYTES): 403 until it deletes some. */
  | 'storage_quota_exceeded';

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

export interface StatusEvent extends EventBase {
  type: 'status';
  status: 'thinking';
  trace_id: string;
  model: string;
}

export interface TokenEvent extends EventBase {
  type: 'token';
  text: string;
  seq: number;
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
}

export type TerminalEvent = DoneEvent | CancelledEvent | ErrorEvent;
export type JarvisEvent = StatusEvent | TokenEvent | ReasoningEvent | ToolCallEvent | TerminalEvent;

export const TERMINAL_TYPES: ReadonlySet<JarvisEvent['type']> = new Set(['done', 'cancelled', 'error']);

export function isTerminal(event: JarvisEvent): event is TerminalEvent {
  return TERMINAL_TYPES.has(event.type);
}

/** `GET /health` body. */
export interface HealthResponse {
  status: 'ok';
  backend: BackendName;
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
}

export type BackendName = 'ollama' | 'openai' | 'demo';

/** `GET /v1/models` body (OpenAI list format). */
export interface ModelList {
  object: 'list';
  data: Array<{ id: string; object: 'model'; created: number; owned_by: string }>;
}

/** Every 4xx/5xx JSON body; also a valid OpenAI error object. */
export interface ApiError {
  error: { code: string; message: string; type: string; param: string | null };
}

export const SESSION_HEADER = 'x-session-id';
export const STREAM_HEADER = 'x-stream-id';
