import type { FinishReason, Usage } from '../../shared/events.js';
import { stringLiteral } from '../upstream/jsonLiteral.js';
import { textAt, textEnds } from '../upstream/textAt.js';
import { BackendError, type BackendChunk, type BackendMessage, type BackendRequest } from '../types.js';
import { MAX_CHOICES, type ChoiceDelta, type TokenLogprob } from '../../shared/logprobs.js';
import { legacyLogprobs, tokenLogprob } from '../upstream/tokenLogprob.js';

// Jarvis's BackendRequest in OpenAI's chat-completions shape, and the upstream's
// SSE events back as BackendChunks, whichever server sends them (vLLM, llama.cpp,
// Ollama's /v1, LM Studio…).

/** The request body: what the client asked, passed on as OpenAI spells it. */
export function openaiChatBody(request: BackendRequest): string {
  const payload: Record<string, unknown> = {
    model: request.model,
    messages: request.messages.map(openaiMessage),
    stream: true,
    stream_options: { include_usage: true },
  };
  return bodyOf(payload, [
    ['max_tokens', request.maxTokens],
    ...samplingFields(request),
    ['response_format', request.responseFormat],
    ['tools', request.tools],
    ['tool_choice', request.tools ? request.toolChoice : undefined],
    ['parallel_tool_calls', request.tools ? request.parallelToolCalls : undefined],
    ['reasoning_effort', request.think === undefined ? undefined : request.think === false ? 'none' : request.think === true ? 'medium' : request.think],
    ['logprobs', request.logprobs],
    ['top_logprobs', request.logprobs ? request.topLogprobs : undefined],
    ['n', request.n],
  ]);
}

/** The sampling parameters every body spells alike (chat, /completions, llama.cpp's /infill). */
function samplingFields(request: BackendRequest): Array<[string, unknown]> {
  return [
    ['temperature', request.temperature],
    ['top_p', request.topP],
    ['stop', request.stop],
    ['seed', request.seed],
    ['frequency_penalty', request.frequencyPenalty],
    ['presence_penalty', request.presencePenalty],
  ];
}

/** `payload` with each field that was set, as JSON. */
function bodyOf(payload: Record<string, unknown>, fields: Array<[string, unknown]>): string {
  for (const [key, value] of fields) if (value !== undefined) payload[key] = value;
  return JSON.stringify(payload);
}

/**
 * The `/completions` body of a text completion (`request.prompt`, docs/completions.md):
 * the prompt and `suffix` as the client wrote them, the sampling as for a chat.
 */
export function openaiCompletionBody(request: BackendRequest): string {
  const prompt = request.prompt!;
  const payload: Record<string, unknown> = { model: request.model, prompt: prompt.text, stream: true, stream_options: { include_usage: true } };
  return bodyOf(payload, [
    ['suffix', prompt.suffix],
    // The legacy API's `logprobs` is the number of alternatives (docs/api.md "Logprobs and n").
    ['logprobs', request.logprobs ? (request.topLogprobs ?? 0) : undefined],
    ['max_tokens', request.maxTokens],
    ...samplingFields(request),
  ]);
}

/**
 * llama.cpp's own fill-in-the-middle route, `/infill` (its `/v1/completions`
 * ignores `suffix`): the prefix and suffix, the model's FIM tokens placed by the server.
 */
export function llamaInfillBody(request: BackendRequest): string {
  const prompt = request.prompt!;
  const payload: Record<string, unknown> = { input_prefix: prompt.text, input_suffix: prompt.suffix ?? '', stream: true };
  return bodyOf(payload, [['n_predict', request.maxTokens], ...samplingFields(request)]);
}

function openaiMessage(m: BackendMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { role: m.role };
  out.content =
    typeof m.content === 'string'
      ? m.content
      : m.content.map((part) => (part.type === 'text' ? part : { type: 'image_url', image_url: { url: part.url, ...(part.detail ? { detail: part.detail } : {}) } }));
  if (m.toolCalls) {
    if (out.content === '') out.content = null;
    out.tool_calls = m.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }));
  }
  if (m.toolCallId !== undefined) out.tool_call_id = m.toolCallId;
  if (m.name !== undefined) out.name = m.name;
  return out;
}

/** One SSE `data:` payload (only the fields Jarvis reads). */
interface ChunkData {
  object?: unknown;
  message?: unknown;
  choices?: ChoiceData[];
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  error?: { message?: unknown } | string;
  /** llama.cpp's own stream (`/infill`): the text, and `stop: true` with its counts on the last event. */
  content?: unknown;
  stop?: unknown;
  stop_type?: unknown;
  tokens_predicted?: unknown;
  tokens_evaluated?: unknown;
}

interface ChoiceData {
  index?: unknown;
  delta?: { content?: unknown; reasoning_content?: unknown; reasoning?: unknown; tool_calls?: unknown };
  /** A `text_completion` chunk's text (`/completions`). */
  text?: unknown;
  /** vLLM's and OpenAI's `{content: [{token, logprob, bytes, top_logprobs}]}`, when asked. */
  logprobs?: { content?: unknown } | null;
  finish_reason?: unknown;
}

interface ToolCallFragment {
  index?: unknown;
  id?: unknown;
  function?: { name?: unknown; arguments?: unknown };
}

/**
 * Reads one reply's SSE events. Tool calls arrive in fragments (the id and name
 * first, the arguments in pieces, keyed by `index`); they are assembled and
 * yielded whole, when the reply finishes.
 */
export class OpenAIEventReader {
  finish: FinishReason | undefined;
  usage: Usage | undefined;
  private readonly calls = new Map<number, { id: string; name: string; arguments: string }>();

  /** The last content-only event, its content literal cut out (see `learn`); `line` is its SSE line's start (`data: ` + head). */
  private template: { head: string; tail: string; line: string } | undefined;

  /** Appends the event's chunks to `batch`; throws the upstream's in-stream error. */
  read(data: string, batch: BackendChunk[]): void {
    const template = this.template;
    if (template !== undefined && textAt(data, template.head, 0) && textEnds(data, template.tail)) {
      const text = stringLiteral(data.slice(template.head.length, data.length - template.tail.length));
      if (text !== undefined) {
        if (text !== '') batch.push({ type: 'token', text });
        return;
      }
    }
    let chunk: ChunkData;
    try {
      chunk = JSON.parse(data) as ChunkData;
    } catch {
      throw new BackendError('upstream_error', `the upstream sent an event that is not JSON: ${JSON.stringify(data.slice(0, 80))}`);
    }
    if (typeof chunk !== 'object' || chunk === null) throw new BackendError('upstream_error', 'the upstream sent an event that is not an object');
    if (chunk.error !== undefined) throw inStreamError(chunk.error);
    // Old vLLM: `{"object":"error","message":…,"code":400}` as a data line.
    if (chunk.object === 'error') throw inStreamError(chunk);
    const choices = chunk.choices;
    if (Array.isArray(choices)) {
      for (const choice of choices) {
        const index = typeof choice?.index === 'number' ? choice.index : 0;
        if (index === 0) this.readFirst(choice, batch);
        else if (index > 0 && index < MAX_CHOICES) readOther(index, choice, batch);
      }
    }
    if (typeof chunk.content === 'string') this.readLlamaCpp(chunk, batch);
    if (chunk.usage && typeof chunk.usage === 'object') {
      this.usage = {
        prompt_tokens: Number(chunk.usage.prompt_tokens ?? 0) || 0,
        completion_tokens: Number(chunk.usage.completion_tokens ?? 0) || 0,
      };
    }
    this.learn(data, chunk);
  }

  /** The first reply's piece: the stream's own tokens, reasoning and tool calls. */
  private readFirst(choice: ChoiceData, batch: BackendChunk[]): void {
    const delta = choice.delta;
    if (delta) {
      const reasoning = typeof delta.reasoning_content === 'string' ? delta.reasoning_content : delta.reasoning;
      if (typeof reasoning === 'string' && reasoning !== '') batch.push({ type: 'reasoning', text: reasoning });
      const logprobs = logprobsOf(choice);
      if (logprobs) batch.push({ type: 'scored_token', text: typeof delta.content === 'string' ? delta.content : '', logprobs });
      else if (typeof delta.content === 'string' && delta.content !== '') batch.push({ type: 'token', text: delta.content });
      if (Array.isArray(delta.tool_calls)) for (const fragment of delta.tool_calls as ToolCallFragment[]) this.addFragment(fragment);
    } else if (typeof choice.text === 'string') {
      const legacy = legacyLogprobs(choice.logprobs);
      if (legacy) batch.push({ type: 'scored_token', text: choice.text, logprobs: legacy });
      else if (choice.text !== '') batch.push({ type: 'token', text: choice.text });
    }
    if (typeof choice.finish_reason === 'string') this.finish = finishReasonOf(choice.finish_reason);
  }

  /**
   * The per-token fast path. A server sends the same chunk again and again with
   * only its content changed (the id, model, created and the nulls stay), and
   * JSON.parse of every chunk was a fifth of Jarvis's CPU on a fast stream. So a
   * content-only chunk, once fully parsed, becomes a template: the text before its
   * content's string literal and the text after it. A later event that starts and
   * ends with exactly those, with one JSON string literal between them, is the
   * same chunk with another content, and needs no parse; anything else (a new
   * `created`, a finish reason, reasoning, tool calls, usage) is parsed whole and
   * may become the next template.
   */
  private learn(data: string, chunk: ChunkData): void {
    this.template = undefined;
    const choice = chunk.choices?.length === 1 ? chunk.choices[0] : undefined;
    const delta = choice?.delta;
    // A chat chunk's `delta.content`, or a text completion's `text`.
    const content = delta ? delta.content : choice?.text;
    if (typeof content !== 'string' || content === '' || typeof choice?.finish_reason === 'string' || chunk.usage) return;
    // Only the first reply's plain tokens: another choice's, or a token with its logprobs, is always parsed.
    if ((choice!.index !== undefined && choice!.index !== 0) || (choice!.logprobs !== undefined && choice!.logprobs !== null)) return;
    if (delta && delta.tool_calls !== undefined && delta.tool_calls !== null) return;
    if (delta && (typeof delta.reasoning_content === 'string' || typeof delta.reasoning === 'string')) return;
    // Found only as JSON.stringify writes it, and only once: otherwise no template (every event parsed).
    const literal = JSON.stringify(content);
    for (const key of delta ? ['"content":', '"content": '] : ['"text":', '"text": ']) {
      const at = data.indexOf(key + literal);
      if (at < 0) continue;
      if (data.indexOf(key + literal, at + 1) >= 0) return;
      const start = at + key.length;
      const head = data.slice(0, start);
      this.template = { head, tail: data.slice(start + literal.length), line: `data: ${head}` };
      return;
    }
  }

  /**
   * The template read where the events lie in the upstream's text, before the SSE
   * parser cuts each one out (a slice, an event object and a call per token). From
   * `at`, which must be where the parser would begin a new event, each event that is
   * one `data: ` line matching the template, then its blank line, is read; the first
   * that is anything else (another field, a CR, an event cut by the end of the read,
   * a chunk that differs) stops it, and the parser reads from there. Returns where
   * that is (`at` when nothing matched).
   */
  readEvents(text: string, at: number, batch: BackendChunk[]): number {
    const template = this.template;
    if (template === undefined) return at;
    const { line, tail } = template;
    while (textAt(text, line, at)) {
      const start = at + line.length;
      const end = text.indexOf('\n', start);
      if (end < 0 || text.charCodeAt(end + 1) !== 10) break;
      const close = end - tail.length;
      if (close < start + 2 || !textAt(text, tail, close)) break;
      const value = stringLiteral(text.slice(start, close));
      if (value === undefined) break;
      if (value !== '') batch.push({ type: 'token', text: value });
      at = end + 2;
    }
    return at;
  }

  /** An event of llama.cpp's own stream (`/infill`), which has no `choices` and no `[DONE]`. */
  private readLlamaCpp(chunk: ChunkData, batch: BackendChunk[]): void {
    if (chunk.content !== '') batch.push({ type: 'token', text: chunk.content as string });
    if (chunk.stop !== true) return;
    this.finish = chunk.stop_type === 'limit' ? 'length' : 'stop';
    this.usage = { prompt_tokens: Number(chunk.tokens_evaluated ?? 0) || 0, completion_tokens: Number(chunk.tokens_predicted ?? 0) || 0 };
  }

  /** The assembled tool calls, then `done`: the end of a complete reply. */
  end(batch: BackendChunk[]): void {
    const indexes = [...this.calls.keys()].sort((a, b) => a - b);
    for (const i of indexes) {
      const call = this.calls.get(i)!;
      if (call.name === '') throw new BackendError('upstream_error', `the upstream sent tool call ${i} without a function name`);
      batch.push({ type: 'tool_call', call: { ...call, arguments: call.arguments === '' ? '{}' : call.arguments } });
    }
    this.calls.clear();
    // Some servers say `stop` after tool calls; the client needs `tool_calls` to run them.
    const reason = indexes.length > 0 && (this.finish === undefined || this.finish === 'stop') ? 'tool_calls' : (this.finish ?? 'stop');
    batch.push({ type: 'done', reason, ...(this.usage ? { usage: this.usage } : {}) });
  }

  private addFragment(fragment: ToolCallFragment): void {
    const index = typeof fragment.index === 'number' ? fragment.index : this.calls.size;
    if (!this.calls.has(index) && this.calls.size >= 128) throw new BackendError('upstream_error', 'the upstream sent more than 128 tool calls');
    const call = this.calls.get(index) ?? { id: '', name: '', arguments: '' };
    this.calls.set(index, call);
    if (typeof fragment.id === 'string' && fragment.id !== '') call.id = fragment.id;
    if (call.id === '') call.id = `call_${index}`;
    const fn = fragment.function;
    if (typeof fn?.name === 'string' && fn.name !== '') call.name = fn.name;
    if (typeof fn?.arguments === 'string') {
      if (call.arguments.length + fn.arguments.length > 1024 * 1024) throw new BackendError('upstream_error', 'the upstream sent tool call arguments larger than 1 MiB');
      call.arguments += fn.arguments;
    } else if (fn?.arguments && typeof fn.arguments === 'object') call.arguments = JSON.stringify(fn.arguments);
  }
}

/** A piece of reply `index` ≥ 1 (`n` > 1): its text, reasoning, logprobs and end; tool calls are the first reply's only. */
function readOther(index: number, choice: ChoiceData, batch: BackendChunk[]): void {
  const delta: ChoiceDelta = { index };
  const content = choice.delta?.content;
  if (typeof content === 'string' && content !== '') delta.text = content;
  const reasoning = typeof choice.delta?.reasoning_content === 'string' ? choice.delta.reasoning_content : choice.delta?.reasoning;
  if (typeof reasoning === 'string' && reasoning !== '') delta.reasoning = reasoning;
  const logprobs = logprobsOf(choice);
  if (logprobs) delta.logprobs = logprobs;
  if (typeof choice.finish_reason === 'string') delta.finish = finishReasonOf(choice.finish_reason);
  if (delta.text !== undefined || delta.reasoning !== undefined || delta.logprobs !== undefined || delta.finish !== undefined) batch.push({ type: 'choice', delta });
}

/** `choices[].logprobs.content` as the upstream sent it, when it holds any (entries without a numeric logprob are dropped). */
function logprobsOf(choice: ChoiceData): TokenLogprob[] | undefined {
  const content = choice.logprobs?.content;
  if (!Array.isArray(content) || content.length === 0) return undefined;
  const out: TokenLogprob[] = [];
  for (const entry of content as unknown[]) {
    const scored = tokenLogprob(entry);
    if (scored) out.push(scored);
  }
  return out.length > 0 ? out : undefined;
}

function finishReasonOf(reason: string): FinishReason {
  switch (reason) {
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/**
 * An error the upstream sent inside the stream, in any of the shapes servers use:
 * OpenAI's `{"error":{"message","code"}}`, a bare `{"error":"…"}`, old vLLM's
 * `{"object":"error","message","code"}`, llama.cpp's `error: {"code","message"}`.
 * A 4xx code keeps its meaning (`upstream_rejected`), as before the stream started.
 */
export function inStreamError(raw: unknown): BackendError {
  let message = 'unknown error';
  let status: number | undefined;
  if (typeof raw === 'string') message = raw;
  else if (raw && typeof raw === 'object') {
    const err = raw as { message?: unknown; code?: unknown; status?: unknown };
    if (err.message !== undefined) message = typeof err.message === 'string' ? err.message : JSON.stringify(err.message);
    const code = typeof err.code === 'number' ? err.code : typeof err.status === 'number' ? err.status : undefined;
    if (code !== undefined && code >= 400 && code < 500 && code !== 401 && code !== 403) status = code;
  }
  const text = `upstream: ${message.slice(0, 300)}`;
  return status === undefined ? new BackendError('upstream_error', text) : new BackendError('upstream_rejected', text, { fields: { status }, status });
}

/** llama.cpp's `error: {…}` SSE line (a field other servers never send). */
export function llamaCppError(value: string): BackendError {
  try {
    return inStreamError(JSON.parse(value));
  } catch {
    return inStreamError(value);
  }
}

