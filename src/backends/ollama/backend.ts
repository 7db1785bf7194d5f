import { LineSplitter, LineTooLongError } from '../../shared/ndjson.js';
import { abortClock, abortError } from '../upstream/abortable.js';
import type { EmbedRequest, EmbedResult, ModelDescription, RunningModel } from '../modelInfo.js';
import { OllamaCatalog } from './catalog.js';
import { fastGenerateToken, ollamaChatBody, ollamaGenerateBody, OllamaLineReader } from './wire.js';
import { BackendError, type Backend, type BackendChunk, type BackendRequest } from '../types.js';
import { cutOff, httpError, unreachable } from '../upstream/upstreamErrors.js';
import { postStream, readText, type UpstreamCloseOutcome, type UpstreamResponse } from '../upstream/upstreamHttp.js';
import type { EngineStop, UpstreamLink } from '../upstream/upstreamLink.js';

export interface OllamaBackendOptions {
  host: string;
}

/** A client of Ollama's native API: `/api/chat` (streamed NDJSON) and `/api/tags`. */
export class OllamaBackend implements Backend {
  readonly name = 'ollama' as const;
  /** Ollama returns logprobs when asked; it has no `n` (one reply per request). */
  readonly features = { logprobs: true };

  private readonly catalog: OllamaCatalog;
  /** Made once: a stream's frame then holds a shared URL, not its own (docs/benchmark.md "Scale"). */
  private readonly urls: { chat: URL; generate: URL };

  constructor(private readonly options: OllamaBackendOptions) {
    this.catalog = new OllamaCatalog(options.host);
    this.urls = { chat: new URL('/api/chat', options.host), generate: new URL('/api/generate', options.host) };
  }

  get host(): string {
    return this.options.host;
  }

  /** How messages name this upstream. */
  private get who(): string {
    return `Ollama at ${this.options.host}`;
  }

  listModels(signal?: AbortSignal): Promise<ModelDescription[]> {
    return this.catalog.list(signal);
  }

  showModel(name: string, signal?: AbortSignal): Promise<ModelDescription> {
    return this.catalog.show(name, signal);
  }

  runningModels(signal?: AbortSignal): Promise<RunningModel[]> {
    return this.catalog.running(signal);
  }

  version(signal?: AbortSignal): Promise<string | undefined> {
    return this.catalog.version(signal);
  }

  embed(request: EmbedRequest, signal: AbortSignal): Promise<EmbedResult> {
    return this.catalog.embed(request, signal);
  }

  async models(signal?: AbortSignal): Promise<string[]> {
    let res: Response;
    try {
      res = await fetch(new URL('/api/tags', this.options.host), { signal: signal ?? AbortSignal.timeout(5000) });
    } catch (err) {
      throw unreachable(this.who, err);
    }
    if (!res.ok) throw new BackendError('upstream_error', `Ollama /api/tags answered HTTP ${res.status}`);
    const body = (await res.json().catch(() => undefined)) as { models?: Array<{ name?: unknown; model?: unknown }> } | undefined;
    if (!body || !Array.isArray(body.models)) throw new BackendError('upstream_error', 'Ollama /api/tags answered without a model list');
    return body.models.map((m) => String(m.name ?? m.model ?? '')).filter((name) => name !== '');
  }

  async *stream(request: BackendRequest, signal: AbortSignal, link?: UpstreamLink): AsyncIterable<BackendChunk[]> {
    // A text completion (docs/completions.md) goes to /api/generate; its lines carry `response`.
    const generate = request.prompt !== undefined;
    const body = generate ? ollamaGenerateBody(request) : ollamaChatBody(request);
    const sinceAbort = abortClock(signal);

    let upstream: UpstreamResponse;
    try {
      link?.upstreamRequested?.();
      upstream = await postStream(generate ? this.urls.generate : this.urls.chat, body, signal, { killSignal: link?.killSignal, trace: request.trace });
    } catch (err) {
      if (signal.aborted) {
        // Aborted before Ollama answered: postStream waited for the connection to close, or for the kill.
        link?.engineStopped?.(ollamaStop(link.killSignal?.aborted ? 'forced' : 'upstream_closed', sinceAbort()));
        throw abortError(signal);
      }
      throw unreachable(this.who, err);
    }
    link?.upstreamOpened?.();

    let finished = false;
    try {
      if (upstream.status >= 400) throw httpError('Ollama', upstream.status, await readText(upstream.body));
      const splitter = new LineSplitter();
      const reader = generate ? new OllamaLineReader(fastGenerateToken) : new OllamaLineReader();
      // A bad line ends the stream, but only after the tokens before it in the same read.
      let failure: unknown;
      const parse = (lines: string[]): BackendChunk[] => {
        const batch: BackendChunk[] = [];
        try {
          for (const line of lines) {
            if (reader.read(line, batch)) {
              finished = true;
              break;
            }
          }
        } catch (err) {
          failure = err;
        }
        return batch;
      };
      let firstRead = true;
      for await (const chunk of upstream.body) {
        if (signal.aborted) break;
        const readAt = firstRead ? performance.now() : 0;
        const batch = parse(splitter.push(chunk));
        if (batch.length > 0) {
          if (firstRead) {
            firstRead = false;
            link?.upstreamFirstToken?.(readAt);
          }
          yield batch;
        }
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
      throw cutOff('Ollama', err);
    } finally {
      const started = performance.now();
      const outcome = await upstream.release(finished);
      link?.upstreamClosed?.(outcome, performance.now() - started);
      if (signal.aborted && outcome !== 'complete') link?.engineStopped?.(ollamaStop(outcome, sinceAbort()));
    }
  }
}

/**
 * Ollama (Go's net/http) cancels a generation when its client half-closes and then
 * closes its side: that close is its acknowledgement. Cut off by the grace timer,
 * nothing says it stopped (docs/backends.md "Stop at the engine").
 */
function ollamaStop(outcome: UpstreamCloseOutcome, ms: number): EngineStop {
  return outcome === 'forced' ? { verdict: 'unconfirmed', ms, how: 'grace_expired' } : { verdict: 'confirmed', ms, how: 'connection_closed' };
}
