import { randomUUID } from 'node:crypto';
import type { FinishReason } from '../../shared/events.js';
import { imageAsBase64 } from '../images/dataUrl.js';
import { stringLiteral } from '../upstream/jsonLiteral.js';
import type { TokenLogprob } from '../../shared/logprobs.js';
import { tokenLogprob } from '../upstream/tokenLogprob.js';
import { BackendError, messageText, type BackendChunk, type BackendMessage, type BackendRequest, type ToolSpec } from '../types.js';

// Jarvis's BackendRequest in Ollama's `/api/chat` shape, and Ollama's stream lines
// back as BackendChunks.

interface OllamaMessage {
  role: string;
  content: string;
  images?: string[];
  tool_calls?: Array<{ function: { name: string; arguments: unknown } }>;
  tool_name?: string;
}

/** The `/api/chat` body; images go inline (the server fetched any http(s) image before: src/server/images/). */
export function ollamaChatBody(request: BackendRequest): string {
  const body: Record<string, unknown> = { model: request.model, messages: ollamaMessages(request.messages), stream: true };
  const options: Record<string, unknown> = { ...request.options };
  const named: Array<[string, unknown]> = [
    ['temperature', request.temperature],
    ['num_predict', request.maxTokens],
    ['top_p', request.topP],
    ['stop', request.stop],
    ['seed', request.seed],
    ['frequency_penalty', request.frequencyPenalty],
    ['presence_penalty', request.presencePenalty],
  ];
  for (const [key, value] of named) if (value !== undefined) options[key] = value;
  body.options = options;
  const tools = ollamaTools(request);
  if (tools) body.tools = tools;
  if (request.think !== undefined) body.think = request.think === 'minimal' ? 'low' : request.think;
  const format = request.responseFormat;
  if (format?.type === 'json_object') body.format = 'json';
  else if (format?.type === 'json_schema') body.format = format.json_schema.schema ?? 'json';
  if (request.keepAlive !== undefined) body.keep_alive = request.keepAlive;
  askLogprobs(body, request);
  return JSON.stringify(body);
}

/**
 * The `/api/generate` body of a text completion (`request.prompt`): the prompt,
 * `suffix` (fill-in-the-middle: Ollama places it with the model's template, and
 * refuses a model without one) and `raw` as the client gave them (docs/completions.md);
 * every other parameter (options, format, think, keep_alive) as the chat body has it.
 */
export function ollamaGenerateBody(request: BackendRequest): string {
  const prompt = request.prompt!;
  const body = JSON.parse(ollamaChatBody({ ...request, messages: [] })) as Record<string, unknown>;
  delete body.messages;
  delete body.tools;
  body.prompt = prompt.text;
  if (prompt.suffix !== undefined) body.suffix = prompt.suffix;
  if (prompt.raw !== undefined) body.raw = prompt.raw;
  if (prompt.system !== undefined) body.system = prompt.system;
  return JSON.stringify(body);
}

/** Ollama's `logprobs` and `top_logprobs` (both routes), only when the client asked. */
function askLogprobs(body: Record<string, unknown>, request: BackendRequest): void {
  if (!request.logprobs) return;
  body.logprobs = true;
  if (request.topLogprobs !== undefined) body.top_logprobs = request.topLogprobs;
}

/**
 * Ollama has no `tool_choice`: `none` sends no tools, a named function sends only
 * that one (so it is the only one the model can call), `auto`/`required` send all.
 */
function ollamaTools(request: BackendRequest): ToolSpec[] | undefined {
  const choice = request.toolChoice;
  if (!request.tools || choice === 'none') return undefined;
  if (choice && typeof choice === 'object') return request.tools.filter((t) => t.function.name === choice.function.name);
  return request.tools;
}

function ollamaMessages(messages: BackendMessage[]): OllamaMessage[] {
  const toolNames = new Map<string, string>();
  const out: OllamaMessage[] = [];
  for (const m of messages) {
    const message: OllamaMessage = { role: m.role, content: messageText(m) };
    if (typeof m.content !== 'string') {
      const images: string[] = [];
      for (const part of m.content) if (part.type === 'image') images.push(imageAsBase64(part.url));
      if (images.length > 0) message.images = images;
    }
    if (m.toolCalls) {
      message.tool_calls = m.toolCalls.map((call) => {
        toolNames.set(call.id, call.name);
        return { function: { name: call.name, arguments: parseArguments(call.arguments) } };
      });
    }
    if (m.role === 'tool' && m.toolCallId !== undefined) {
      const name = toolNames.get(m.toolCallId) ?? m.name;
      if (name) message.tool_name = name;
    }
    out.push(message);
  }
  return out;
}

/** Ollama wants arguments as an object; text the model once wrote that is not JSON is passed as `{}`. */
function parseArguments(text: string): unknown {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

/** One line of Ollama's `/api/chat` stream (only the fields Jarvis reads). */
interface OllamaChatLine {
  message?: { content?: unknown; thinking?: unknown; tool_calls?: unknown };
  /** `/api/generate`'s text, and its `thinking` beside it. */
  response?: unknown;
  thinking?: unknown;
  done?: unknown;
  done_reason?: unknown;
  prompt_eval_count?: unknown;
  eval_count?: unknown;
  error?: unknown;
  /** When asked: `[{token, logprob, bytes?, top_logprobs?}]`, the line's tokens (api/types.go `Logprob`). */
  logprobs?: unknown;
}

const TOKEN_HEAD = '"message":{"role":"assistant","content":';
const TOKEN_TAIL = '},"done":false}';
/** `/api/generate`'s token line ends `"response":"…","done":false}`. */
const GENERATE_HEAD = '"response":';
const GENERATE_TAIL = ',"done":false}';

/**
 * The hot path: Ollama writes every token line with the same field order, ending
 * `"message":{"role":"assistant","content":"…"},"done":false}`. Parsing only the
 * content's string literal costs a fraction of parsing the line; anything else
 * (thinking or tool calls after the content, escapes that do not parse) falls
 * back to the full parse.
 */
export function fastToken(line: string): string | undefined {
  if (!line.endsWith(TOKEN_TAIL)) return undefined;
  const at = line.lastIndexOf(TOKEN_HEAD);
  if (at < 0) return undefined;
  const text = stringLiteral(line.slice(at + TOKEN_HEAD.length, line.length - TOKEN_TAIL.length));
  return text === '' ? undefined : text;
}

/** The same fast path for `/api/generate`'s lines. */
export function fastGenerateToken(line: string): string | undefined {
  if (!line.endsWith(GENERATE_TAIL)) return undefined;
  const at = line.lastIndexOf(GENERATE_HEAD);
  if (at < 0) return undefined;
  const text = stringLiteral(line.slice(at + GENERATE_HEAD.length, line.length - GENERATE_TAIL.length));
  return text === '' ? undefined : text;
}

/** Reads one reply's lines; remembers whether the model called a tool, which Ollama's `done_reason` does not say. */
export class OllamaLineReader {
  private toolCalls = 0;

  /** `fast`: the per-token fast path of the route read (`fastGenerateToken` for `/api/generate`). */
  constructor(private readonly fast: (line: string) => string | undefined = fastToken) {}

  /** Appends the line's chunks to `batch`; true once the line was the last (`done: true`). */
  read(line: string, batch: BackendChunk[]): boolean {
    const text = this.fast(line);
    if (text !== undefined) {
      batch.push({ type: 'token', text });
      return false;
    }
    let msg: OllamaChatLine;
    try {
      msg = JSON.parse(line) as OllamaChatLine;
    } catch {
      throw new BackendError('upstream_error', `Ollama sent a line that is not JSON: ${JSON.stringify(line.slice(0, 80))}`);
    }
    if (typeof msg !== 'object' || msg === null) throw new BackendError('upstream_error', 'Ollama sent a line that is not an object');
    if (msg.error !== undefined) throw new BackendError('upstream_error', `Ollama: ${typeof msg.error === 'string' ? msg.error : JSON.stringify(msg.error)}`);
    // Every field of the message counts, on the final line too: some servers put the last text there.
    const message = msg.message;
    if (message && typeof message === 'object') {
      if (typeof message.thinking === 'string' && message.thinking !== '') batch.push({ type: 'reasoning', text: message.thinking });
      const logprobs = Array.isArray(msg.logprobs) && typeof message.content === 'string' ? scored(msg.logprobs) : undefined;
      if (logprobs) batch.push({ type: 'scored_token', text: message.content as string, logprobs });
      else if (typeof message.content === 'string' && message.content !== '') batch.push({ type: 'token', text: message.content });
      if (Array.isArray(message.tool_calls)) for (const call of message.tool_calls) batch.push(this.toolCall(call));
    }
    if (typeof msg.thinking === 'string' && msg.thinking !== '') batch.push({ type: 'reasoning', text: msg.thinking });
    const generated = typeof msg.response === 'string' && Array.isArray(msg.logprobs) ? scored(msg.logprobs) : undefined;
    if (generated) batch.push({ type: 'scored_token', text: msg.response as string, logprobs: generated });
    else if (typeof msg.response === 'string' && msg.response !== '') batch.push({ type: 'token', text: msg.response });
    if (msg.done !== true) return false;
    batch.push({
      type: 'done',
      reason: this.finishReason(msg.done_reason),
      usage: {
        prompt_tokens: typeof msg.prompt_eval_count === 'number' ? msg.prompt_eval_count : 0,
        completion_tokens: typeof msg.eval_count === 'number' ? msg.eval_count : 0,
      },
    });
    return true;
  }

  private toolCall(raw: unknown): BackendChunk {
    const call = raw as { id?: unknown; function?: { name?: unknown; arguments?: unknown } } | null;
    const name = call?.function?.name;
    if (typeof name !== 'string' || name === '') throw new BackendError('upstream_error', 'Ollama sent a tool call without a function name');
    this.toolCalls++;
    const args = call?.function?.arguments;
    return {
      type: 'tool_call',
      call: {
        id: typeof call?.id === 'string' && call.id !== '' ? call.id : `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
        name,
        arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
      },
    };
  }

  private finishReason(doneReason: unknown): FinishReason {
    if (doneReason === 'length') return 'length';
    if (this.toolCalls > 0) return 'tool_calls';
    return 'stop';
  }
}

/** The line's logprobs in Jarvis's shape (Ollama's fields are OpenAI's); undefined when none. */
function scored(raw: unknown[]): TokenLogprob[] | undefined {
  const out: TokenLogprob[] = [];
  for (const entry of raw) {
    const one = tokenLogprob(entry);
    if (one) out.push(one);
  }
  return out.length > 0 ? out : undefined;
}
