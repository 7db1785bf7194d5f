import { LineSplitter, LineTooLongError } from '../shared/ndjson.js';
import type { FinishReason } from '../shared/events.js';
import { abortError } from './abortable.js';
import { BackendError, type Backend, type BackendChunk, type BackendRequest } from './types.js';
import { describeError, httpError } from './upstreamErrors.js';
import { postStream, readText, type UpstreamResponse } from './upstreamHttp.js';
import type { UpstreamLink } from './upstreamLink.js';

/** One line of Ollama's `/api/chat` stream (only the fields Jarvis reads). */
interface OllamaChatLine {
  message?: { content?: unknown };
  done?: unknown;
  done_reason?: unknown;
  prompt_eval_count?: unknown;
  eval_count?: unknown;
  error?: unknown;
}

export interface OllamaBackendOptions {
  host: string;
}

/** A client of Ollama's native API: `/api/chat` (streamed NDJSON) and `/api/tags`. */
export class OllamaBackend implements Backend {
  readonly name = 'ollama' as const;

  constructor(private readonly options: OllamaBackendOptions) {}

  get host(): string {
    return this.options.host;
  }

  async models(signal?: AbortSignal): Promise<string[]> {
    let res: Response;
    try {
      res = await fetch(new URL('/api/tags', this.options.host), { signal: signal ?? AbortSignal.timeout(5000) });
    } catch (err) {
      throw new BackendError('upstream_unavailable', `cannot reach Ollama at ${this.options.host}: ${describeError(err)}`);
    }
    if (!res.ok) throw new BackendError('upstream_error', `Ollama /api/tags answered HTTP ${res.status}`);
    const body = (await res.json().catch(() => undefined)) as { models?: Array<{ name?: unknown; model?: unknown }> } | undefined;
    if (!body || !Array.isArray(body.models)) throw new BackendError('upstream_error', 'Ollama /api/tags answered without a model list');
    return body.models.map((m) => String(m.name ?? m.model ?? '')).filter((name) => name !== '');
  }

  async *stream(request: BackendRequest, signal: AbortSignal, link?: UpstreamLink): AsyncIterable<BackendChunk[]> {
    const options: Record<string, number> = {};
    if (request.temperature !== undefined) options.temperature = request.temperature;
    if (request.maxTokens !== undefined) options.num_predict = request.maxTokens;
    const body = JSON.stringify({ model: request.model, messages: request.messages, stream: true, options });

    let upstream: UpstreamResponse;
    try {
      upstream = await postStream(new URL('/api/chat', this.options.host), body, signal, { killSignal: link?.killSignal });
    } catch (err) {
      if (signal.aborted) throw abortError(signal);
      throw new BackendError('upstream_unavailable', `cannot reach Ollama at ${this.options.host}: ${describeError(err)}`);
    }
    link?.upstreamOpened?.();

    let finished = false;
    try {
      if (upstream.status >= 400) throw httpError('Ollama', upstream.status, await readText(upstream.body));
      const splitter = new LineSplitter();
      // A bad line ends the stream, but only after the tokens before it in the same read.
      let failure: unknown;
      const parse = (lines: string[]): BackendChunk[] => {
        const batch: BackendChunk[] = [];
        try {
          for (const line of lines) {
            const parsed = parseLine(line);
            if (!parsed) continue;
            batch.push(parsed);
            if (parsed.type === 'done') {
              finished = true;
              break;
            }
          }
        } catch (err) {
          failure = err;
        }
        return batch;
      };
      for await (const chunk of upstream.body) {
        if (signal.aborted) break;
        const batch = parse(splitter.push(chunk));
        if (batch.length > 0) yield batch;
        if (failure !== undefined) throw failure;
        if (finished) return;
      }
      if (signal.aborted) throw abortError(signal);
      const batch = parse(splitter.end());
      if (batch.length > 0) yield batch;
      if (failure !== undefined) throw failure;
      if (finished) return;
      throw new BackendError('upstream_error', 'Ollama closed the stream before it finished');
    } catch (err) {
      if (signal.aborted) throw abortError(signal);
      if (err instanceof BackendError) throw err;
      if (err instanceof LineTooLongError) throw new BackendError('upstream_error', `Ollama sent a ${err.message}`);
      throw new BackendError('upstream_error', `Ollama stream failed: ${describeError(err)}`);
    } finally {
      const started = performance.now();
      const outcome = await upstream.release(finished);
      link?.upstreamClosed?.(outcome, performance.now() - started);
    }
  }
}

const TOKEN_HEAD = '"message":{"role":"assistant","content":';
const TOKEN_TAIL = '},"done":false}';

/**
 * The hot path: Ollama writes every token line with the same field order, ending
 * `"message":{"role":"assistant","content":"…"},"done":false}`. Parsing only the
 * content's string literal costs a fraction of parsing the line; anything else
 * (another field after the content, escapes that do not parse) falls back to the
 * full parse.
 */
function fastToken(line: string): BackendChunk | undefined {
  if (!line.endsWith(TOKEN_TAIL)) return undefined;
  const at = line.lastIndexOf(TOKEN_HEAD);
  if (at < 0) return undefined;
  const literal = line.slice(at + TOKEN_HEAD.length, line.length - TOKEN_TAIL.length);
  if (literal.length < 3 || literal.charCodeAt(0) !== 34 || literal.charCodeAt(literal.length - 1) !== 34) return undefined;
  // Without a backslash, a JSON string literal is its text between the quotes.
  if (!literal.includes('\\') && !literal.slice(1, -1).includes('"')) return { type: 'token', text: literal.slice(1, -1) };
  try {
    const text: unknown = JSON.parse(literal);
    return typeof text === 'string' && text !== '' ? { type: 'token', text } : undefined;
  } catch {
    return undefined;
  }
}

function parseLine(line: string): BackendChunk | undefined {
  const fast = fastToken(line);
  if (fast) return fast;
  let msg: OllamaChatLine;
  try {
    msg = JSON.parse(line) as OllamaChatLine;
  } catch {
    throw new BackendError('upstream_error', `Ollama sent a line that is not JSON: ${JSON.stringify(line.slice(0, 80))}`);
  }
  if (typeof msg !== 'object' || msg === null) throw new BackendError('upstream_error', 'Ollama sent a line that is not an object');
  if (msg.error !== undefined) throw new BackendError('upstream_error', `Ollama: ${String(msg.error)}`);
  if (msg.done === true) {
    const reason: FinishReason = msg.done_reason === 'length' ? 'length' : 'stop';
    return {
      type: 'done',
      reason,
      usage: {
        prompt_tokens: typeof msg.prompt_eval_count === 'number' ? msg.prompt_eval_count : 0,
        completion_tokens: typeof msg.eval_count === 'number' ? msg.eval_count : 0,
      },
    };
  }
  const content = msg.message?.content;
  if (typeof content === 'string' && content !== '') return { type: 'token', text: content };
  return undefined;
}
