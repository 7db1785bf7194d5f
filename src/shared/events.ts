// The Jarvis wire events (SPEC §3). The one definition: the server writes these,
// the web UI and the CLI read them. Keep it free of Node- or DOM-only imports.

export type Role = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: Role;
  content: string;
}

export type CancelReason = 'superseded' | 'stopped' | 'client_closed' | 'shutdown';

export type ErrorCode =
  | 'upstream_unavailable'
  | 'upstream_error'
  | 'model_not_found'
  | 'no_model'
  | 'timeout'
  | 'internal_error';

export type FinishReason = 'stop' | 'length';

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

export interface DoneEvent extends EventBase {
  type: 'done';
  reason: FinishReason;
  usage: Usage;
}

export interface CancelledEvent extends EventBase {
  type: 'cancelled';
  reason: CancelReason;
}

export interface ErrorEvent extends EventBase {
  type: 'error';
  code: ErrorCode;
  message: string;
}

export type TerminalEvent = DoneEvent | CancelledEvent | ErrorEvent;
export type JarvisEvent = StatusEvent | TokenEvent | TerminalEvent;

export const TERMINAL_TYPES: ReadonlySet<JarvisEvent['type']> = new Set(['done', 'cancelled', 'error']);

export function isTerminal(event: JarvisEvent): event is TerminalEvent {
  return TERMINAL_TYPES.has(event.type);
}

/** `GET /health` body. */
export interface HealthResponse {
  status: 'ok';
  backend: BackendName;
  model: string | null;
  active_streams: number;
  uptime_s: number;
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

export const SESSION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const SESSION_HEADER = 'x-session-id';
export const STREAM_HEADER = 'x-stream-id';
