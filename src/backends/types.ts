import type { ErrorCode, FinishReason, ToolCall, UpstreamStatus, Usage } from '../shared/events.js';
import type { EmbedRequest, EmbedResult, ModelDescription, RunningModel } from './modelInfo.js';
import type { LingeringWork, UpstreamLink } from './upstream/upstreamLink.js';
import type { TraceHeaders } from './upstream/upstreamHttp.js';

export type { TraceHeaders } from './upstream/upstreamHttp.js';
import type { ChoiceDelta, TokenLogprob } from '../shared/logprobs.js';

export type { ToolCall } from '../shared/events.js';

/** A part of a message's content, in order. */
export type ContentPart =
  | { type: 'text'; text: string }
  /** `url`: a `data:` URL or an http(s) URL, as the client sent it. */
  | { type: 'image'; url: string; detail?: string };

/**
 * One message of the conversation, protocol-neutral. Every adapter maps its own
 * shape onto this (OpenAI's `developer` role becomes `system`); every backend
 * maps this onto its upstream's shape.
 */
export interface BackendMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  /** Plain text, or text and images in order. */
  content: string | ContentPart[];
  name?: string;
  /** An assistant message's calls. */
  toolCalls?: ToolCall[];
  /** A `tool` message: the call it answers. */
  toolCallId?: string;
}

/** A function the model may call (OpenAI's and Ollama's shape alike). */
export interface ToolSpec {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; schema?: Record<string, unknown>; strict?: boolean; description?: string } };

/** How hard a reasoning model should think; `false` asks for no thinking. */
export type ThinkLevel = boolean | 'minimal' | 'low' | 'medium' | 'high';

/**
 * A text completion's prompt, sent as written (docs/completions.md): the
 * `/v1/completions` prompt, or Ollama's `/api/generate` with `raw` or `suffix`.
 */
export interface PromptInput {
  text: string;
  /** The text after the insertion point: fill-in-the-middle. */
  suffix?: string;
  /** Ollama's `raw`: no template around the prompt (the other backends never apply one). */
  raw?: boolean;
  /** Ollama's `system`, which its template places (ignored with `raw`). */
  system?: string;
}

export interface BackendRequest {
  model: string;
  /** Empty when `prompt` is set. */
  messages: BackendMessage[];
  /** Set: a text completion of this prompt instead of a chat reply (backends without one answer `unsupported_by_backend`). */
  prompt?: PromptInput;
  temperature?: number;
  maxTokens?: number;
  topP?: number;
  stop?: string[];
  seed?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  responseFormat?: ResponseFormat;
  tools?: ToolSpec[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  /** Set only when the client asked (`reasoning_effort` or `think`). */
  think?: ThinkLevel;
  /** Ollama's `keep_alive` (how long the model stays loaded). */
  keepAlive?: string | number;
  /** Ollama's `options` as the client gave them (num_ctx, top_k…); named parameters above win. */
  options?: Record<string, unknown>;
  /** Set only when the client asked: each content token comes as a `scored_token` with its logprobs. */
  logprobs?: boolean;
  /** With `logprobs`: how many alternatives per token (0-20). */
  topLogprobs?: number;
  /** Set only when the client asked for more than one reply (2-8): the others come as `choice` chunks. */
  n?: number;
  /** Tracing on: the stream's span, as the W3C headers an HTTP backend sends upstream (docs/observability.md). */
  trace?: TraceHeaders;
}

/** What a backend can serve beyond a plain reply (docs/backends.md); absent: neither. */
export interface BackendFeatures {
  /** Token log probabilities (`logprobs`, `top_logprobs`). */
  logprobs?: boolean;
  /** Several replies to one request (`n` > 1). */
  choices?: boolean;
}

/** What a backend produces: content as it comes, then at most one `done`. */
export type BackendChunk =
  | { type: 'token'; text: string }
  /** A content token with its logprobs: only when the request asked for them (`logprobs`). */
  | { type: 'scored_token'; text: string; logprobs: TokenLogprob[] }
  /** A piece of reply `delta.index` ≥ 1: only when the request asked for several (`n`). */
  | { type: 'choice'; delta: ChoiceDelta }
  | { type: 'reasoning'; text: string }
  /** A complete call: backends assemble streamed fragments before they yield it. */
  | { type: 'tool_call'; call: ToolCall }
  | { type: 'done'; reason: FinishReason; usage?: Partial<Usage> };

export interface Backend {
  /** Its kind's name in the registry (registry.ts), e.g. `ollama`. */
  readonly name: string;
  /** What it serves beyond a plain reply; a request asking for more is refused with a 400 naming it. */
  readonly features?: BackendFeatures;
  /**
   * Streams one completion, in batches: each batch is what one read from the
   * upstream produced (often hundreds of tokens), so the per-token path has no
   * await in it. Aborting `signal` asks the upstream to stop; the iterator
   * finishes once it has (or once `link.killSignal` cuts it off), and that finish
   * is what the registry waits for when it supersedes a stream.
   */
  stream(request: BackendRequest, signal: AbortSignal, link?: UpstreamLink): AsyncIterable<BackendChunk[]>;
  models(signal?: AbortSignal): Promise<string[]>;
  /** The models with what the upstream says about them (sizes, families…). */
  listModels(signal?: AbortSignal): Promise<ModelDescription[]>;
  /** One model in detail; a `model_not_found` BackendError when there is none by that name. */
  showModel(name: string, signal?: AbortSignal): Promise<ModelDescription>;
  /** The models loaded and ready now. */
  runningModels(signal?: AbortSignal): Promise<RunningModel[]>;
  /** The upstream server's own version, when it reports one. */
  version(signal?: AbortSignal): Promise<string | undefined>;
  /** One embedding vector per input; an `unsupported` BackendError from a backend without embeddings. */
  embed(request: EmbedRequest, signal: AbortSignal): Promise<EmbedResult>;
  /**
   * Ollama's load and unload calls (`/api/chat` without messages, `/api/generate`
   * without a prompt): loads the model and keeps it for `keepAlive`, or unloads it
   * when `keepAlive` is 0; says which it did. Absent: the route only checks that
   * the model exists (the upstream loads it on first use).
   */
  keepModel?(request: { model: string; keepAlive?: string | number }, signal: AbortSignal): Promise<'load' | 'unload'>;
  /**
   * The tokens of the request's prompt as the model reads it (its chat template and
   * tokenizer): `/v1/messages/count_tokens`. Absent: the backend cannot tell, and the
   * route estimates (docs/anthropic.md "count_tokens").
   */
  countTokens?(request: BackendRequest, signal: AbortSignal): Promise<number>;
  /** Engine work still running after its stream ended (a runaway the backend can see); absent when it cannot tell. */
  lingeringWork?(): LingeringWork[];
  /**
   * Auto mode switched to another backend: frees what it holds once its running
   * work has ended, without cutting it (an in-process engine unloads its models).
   */
  retire?(): Promise<void>;
  /** Shutdown, after its streams have ended: frees what it holds (an in-process engine's models). */
  close?(): Promise<void>;
  /**
   * Several model servers behind this one (routing/routedBackend.ts): each as /health lists it.
   * Absent: one server, the backend itself.
   */
  upstreams?(): UpstreamStatus[];
  /** Several model servers: the names of those that serve the model now (`/v1/models`' `upstreams`). */
  servedBy?(model: string): string[];
  /** What it serves for that model, when that depends on the model (several servers); else `features`. */
  featuresFor?(model: string): BackendFeatures | undefined;
}

/** What a BackendError carries besides its code and message. */
export interface BackendErrorOptions {
  /** The technical detail (an errno line, `connect ECONNREFUSED 127.0.0.1:11434`): for the log and the error's `detail`, not the message. */
  detail?: string | undefined;
  /** More fields for the `upstream_error` log line (`status`, `limit`). */
  fields?: Record<string, string | number | undefined>;
  /** For `upstream_rejected`: the upstream's 4xx status, which the client is given too. */
  status?: number | undefined;
}

/**
 * A failure the client should see as an `error` event with this code. The
 * message is for people: what happened in words, and what to do
 * (docs/backends.md "Errors"); the technical detail goes in `detail`.
 */
export class BackendError extends Error {
  readonly detail: string | undefined;
  readonly fields: Record<string, string | number | undefined>;
  readonly status: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: BackendErrorOptions = {},
  ) {
    super(message);
    this.name = 'BackendError';
    this.detail = options.detail;
    this.fields = options.fields ?? {};
    this.status = options.status;
  }
}

/** A message's text, its parts joined (images left out). */
export function messageText(message: BackendMessage): string {
  if (typeof message.content === 'string') return message.content;
  let text = '';
  for (const part of message.content) if (part.type === 'text') text += part.text;
  return text;
}
