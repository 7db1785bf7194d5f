import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { FinishReason } from '../shared/events.js';
import { abortError } from './abortable.js';
import { BackendError, type Backend, type BackendChunk, type BackendRequest } from './types.js';
import { describeError, httpError } from './upstreamErrors.js';
import { postStream, readText, type UpstreamResponse } from './upstreamHttp.js';
import type { UpstreamLink } from './upstreamLink.js';

/** One `chat.completion.chunk` (only the fields Jarvis reads). */
interface ChatCompletionChunk {
  choices?: Array<{ delta?: { content?: unknown }; finish_reason?: unknown }>;
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  error?: { message?: unknown } | string;
}

export interface OpenAIBackendOptions {
  /** e.g. http://127.0.0.1:8080/v1 (llama.cpp), http://127.0.0.1:8000/v1 (vLLM), http://127.0.0.1:11434/v1 (Ollama). */
  baseUrl: string;
  apiKey?: string | undefined;
}

/**
 * A client of any OpenAI-compatible server: `POST {base}/chat/completions` with
 * `stream: true` (SSE, parsed by eventsource-parser) and `GET {base}/models`.
 * The connection is Jarvis's own (upstreamHttp.ts), so Stop and supersede
 * half-close it and wait for the server to let go, as with Ollama.
 */
export class OpenAIBackend implements Backend {
  readonly name = 'openai' as const;

  constructor(private readonly options: OpenAIBackendOptions) {}

  private url(path: string): URL {
    return new URL(`${this.options.baseUrl.replace(/\/+$/, '')}${path}`);
  }

  private headers(): Record<string, string> {
    return this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {};
  }

  async models(signal?: AbortSignal): Promise<string[]> {
    let res: Response;
    try {
      res = await fetch(this.url('/models'), { headers: this.headers(), signal: signal ?? AbortSignal.timeout(5000) });
    } catch (err) {
      throw new BackendError('upstream_unavailable', `cannot reach ${this.options.baseUrl}: ${describeError(err)}`);
    }
    if (!res.ok) throw new BackendError('upstream_error', `${this.options.baseUrl}/models answered HTTP ${res.status}`);
    const body = (await res.json().catch(() => undefined)) as { data?: Array<{ id?: unknown }> } | undefined;
    if (!body || !Array.isArray(body.data)) throw new BackendError('upstream_error', `${this.options.baseUrl}/models answered without a model list`);
    return body.data.map((m) => String(m.id ?? '')).filter((id) => id !== '');
  }

  async *stream(request: BackendRequest, signal: AbortSignal, link?: UpstreamLink): AsyncIterable<BackendChunk[]> {
    const payload: Record<string, unknown> = {
      model: request.model,
      messages: request.messages,
      stream: true,
      stream_options: { include_usage: true },
    };
    if (request.temperature !== undefined) payload.temperature = request.temperature;
    if (request.maxTokens !== undefined) payload.max_tokens = request.maxTokens;

    let upstream: UpstreamResponse;
    try {
      upstream = await postStream(this.url('/chat/completions'), JSON.stringify(payload), signal, {
        killSignal: link?.killSignal,
        headers: { ...this.headers(), accept: 'text/event-stream' },
      });
    } catch (err) {
      if (signal.aborted) throw abortError(signal);
      throw new BackendError('upstream_unavailable', `cannot reach ${this.options.baseUrl}: ${describeError(err)}`);
    }
    link?.upstreamOpened?.();

    let finished = false;
    try {
      if (upstream.status >= 400) throw httpError(this.options.baseUrl, upstream.status, await readText(upstream.body));
      // The parser calls back synchronously per event; collect, then yield.
      let pending: BackendChunk[] = [];
      let finish: FinishReason | undefined;
      let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
      let ended = false;
      let failure: BackendError | undefined;
      const parser = createParser({
        onEvent: (event: EventSourceMessage) => {
          if (ended || failure) return;
          if (event.data === '[DONE]') {
            ended = true;
            return;
          }
          let chunk: ChatCompletionChunk;
          try {
            chunk = JSON.parse(event.data) as ChatCompletionChunk;
          } catch {
            failure = new BackendError('upstream_error', `the upstream sent an event that is not JSON: ${JSON.stringify(event.data.slice(0, 80))}`);
            return;
          }
          if (chunk.error !== undefined) {
            const message = typeof chunk.error === 'string' ? chunk.error : String(chunk.error.message ?? 'unknown error');
            failure = new BackendError('upstream_error', `upstream: ${message}`);
            return;
          }
          const choice = chunk.choices?.[0];
          const content = choice?.delta?.content;
          if (typeof content === 'string' && content !== '') pending.push({ type: 'token', text: content });
          if (typeof choice?.finish_reason === 'string') finish = choice.finish_reason === 'length' ? 'length' : 'stop';
          if (chunk.usage && typeof chunk.usage === 'object') {
            usage = {
              prompt_tokens: Number(chunk.usage.prompt_tokens ?? 0) || 0,
              completion_tokens: Number(chunk.usage.completion_tokens ?? 0) || 0,
            };
          }
        },
      });
      const decoder = new TextDecoder();
      for await (const bytes of upstream.body) {
        if (signal.aborted) break;
        parser.feed(decoder.decode(bytes, { stream: true }));
        if (pending.length > 0) {
          const batch = pending;
          pending = [];
          yield batch;
        }
        if (failure) throw failure;
        if (ended) break;
      }
      if (signal.aborted) throw abortError(signal);
      // Some servers end the body without `[DONE]` after the finish chunk; that is a complete reply too.
      if (!ended && finish === undefined) throw new BackendError('upstream_error', 'the upstream closed the stream before it finished');
      finished = true;
      yield [{ type: 'done', reason: finish ?? 'stop', ...(usage ? { usage } : {}) }];
    } catch (err) {
      if (signal.aborted) throw abortError(signal);
      if (err instanceof BackendError) throw err;
      throw new BackendError('upstream_error', `upstream stream failed: ${describeError(err)}`);
    } finally {
      const started = performance.now();
      const outcome = await upstream.release(finished);
      link?.upstreamClosed?.(outcome, performance.now() - started);
    }
  }
}
