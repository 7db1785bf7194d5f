import { createParser, type EventSourceMessage, type ParseError } from 'eventsource-parser';
import { abortError } from '../upstream/abortable.js';
import type { EmbedRequest, EmbedResult, ModelDescription, RunningModel } from '../modelInfo.js';
import { OpenAICatalog } from './catalog.js';
import { llamaCppError, llamaInfillBody, OpenAIEventReader, openaiChatBody, openaiCompletionBody } from './wire.js';
import { BackendError, type Backend, type BackendChunk, type BackendRequest } from '../types.js';
import { cutOff, describeError, httpError, unreachable } from '../upstream/upstreamErrors.js';
import { Utf8Chunks } from '../../shared/utf8Chunks.js';
import { postStream, readText, type UpstreamCloseOutcome, type UpstreamResponse } from '../upstream/upstreamHttp.js';
import type { EngineStop, LingeringWork, UpstreamLink } from '../upstream/upstreamLink.js';
import type { SystemLog } from '../../log/systemLog.js';
import { LingeringSlots } from './lingeringSlots.js';
import { SlotsClient } from './slotsClient.js';
import { SlotWatch } from './slotWatch.js';

/** The most an upstream may send without an event boundary (like the NDJSON LineSplitter's line cap). */
export const MAX_EVENT_BYTES = 1 << 20;

export interface OpenAIBackendOptions {
  /** e.g. http://127.0.0.1:8080/v1 (llama.cpp), http://127.0.0.1:8000/v1 (vLLM), http://127.0.0.1:11434/v1 (Ollama). */
  baseUrl: string;
  apiKey?: string | undefined;
  /**
   * The kind it serves, when not `openai`: a kind for one particular
   * OpenAI-compatible server (other defaults, another label) builds this class
   * under its own name (docs/backends.md "Add a backend").
   */
  kind?: { name: string; label: string };
  /** The cancel grace (JARVIS_CANCEL_TIMEOUT_MS): the engine-stop verdict is in by then. */
  cancelGraceMs?: number;
  /** Where an engine still generating after its stream ended is reported. */
  log?: SystemLog | undefined;
  /** How long a slot still processing after its Stop is watched (default 10 minutes). */
  lingerWatchMs?: number;
}

/**
 * A client of any OpenAI-compatible server: `POST {base}/chat/completions` with
 * `stream: true` (SSE, parsed by eventsource-parser) and `GET {base}/models`.
 * The connection is Jarvis's own (upstreamHttp.ts), so Stop and supersede
 * half-close it and wait for the server to let go, as with Ollama.
 */
export class OpenAIBackend implements Backend {
  readonly name: string;
  /** Passed on as OpenAI spells them; a server without them (llama.cpp has no `n`) refuses in its own words. */
  readonly features = { logprobs: true, choices: true };
  private readonly label: string;

  private readonly catalog: OpenAICatalog;
  private readonly slots: SlotsClient;
  private readonly lingering: LingeringSlots;

  constructor(private readonly options: OpenAIBackendOptions) {
    this.name = options.kind?.name ?? 'openai';
    this.label = options.kind?.label ?? 'the OpenAI-compatible server';
    this.catalog = new OpenAICatalog({ baseUrl: options.baseUrl, headers: () => this.headers() });
    this.slots = new SlotsClient(options.baseUrl, () => this.headers());
    this.lingering = new LingeringSlots(this.slots, options.baseUrl, options.log, options.lingerWatchMs);
  }

  /** llama.cpp slots still processing a request whose stream ended (docs/backends.md "Stop at the engine"). */
  lingeringWork(): LingeringWork[] {
    return this.lingering.list();
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

  /** The OpenAI API has no version endpoint. */
  async version(): Promise<string | undefined> {
    return undefined;
  }

  embed(request: EmbedRequest, signal: AbortSignal): Promise<EmbedResult> {
    return this.catalog.embed(request, signal);
  }

  /** Each path's URL made once: a stream's frame then holds a shared one, not its own (docs/benchmark.md "Scale"). */
  private readonly urls = new Map<string, URL>();

  private url(path: string): URL {
    let url = this.urls.get(path);
    if (!url) this.urls.set(path, (url = new URL(`${this.options.baseUrl.replace(/\/+$/, '')}${path}`)));
    return url;
  }

  /** How messages name this upstream. */
  private get who(): string {
    return `${this.label} at ${this.options.baseUrl}`;
  }

  private headers(): Record<string, string> {
    return this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {};
  }

  /**
   * Where a request goes (docs/completions.md): a chat to /chat/completions; a
   * text completion to /completions (chunks with `choices[].text`), except a
   * suffix to llama.cpp, whose /v1/completions ignores it: that goes to its /infill.
   */
  private route(request: BackendRequest): { path: string; url: URL; payload: string } {
    if (!request.prompt) return { path: '/chat/completions', url: this.url('/chat/completions'), payload: openaiChatBody(request) };
    if (request.prompt.suffix !== undefined && this.slots.llamaCpp) {
      return { path: '/infill', url: new URL('infill', this.slots.url), payload: llamaInfillBody(request) };
    }
    return { path: '/completions', url: this.url('/completions'), payload: openaiCompletionBody(request) };
  }

  /**
   * An HTTP error answer as a BackendError. A server without text completions
   * (Ollama's /v1 before 0.4, some proxies) answers 404 or 405 at /completions:
   * that is this server's limit, said as such, not a missing model.
   */
  private refusal(path: string, status: number, text: string): BackendError {
    const err = httpError(this.options.baseUrl, status, text);
    // llama.cpp's /infill with a model that has no FIM tokens: 501 `not_supported_error`.
    if (path === '/infill' && status === 501) {
      return new BackendError('unsupported_by_backend', `the model on ${this.who} cannot fill in the middle: ${err.message}; use a code model made for it, or leave out the suffix`, { detail: err.message, fields: { status } });
    }
    if (path !== '/completions' || err.code === 'model_not_found' || (status !== 404 && status !== 405)) return err;
    return new BackendError(
      'unsupported_by_backend',
      `${this.who} does not serve text completions (its /completions answered HTTP ${status}); use vLLM, llama.cpp's server or Ollama, which do`,
      { detail: err.message, fields: { status } },
    );
  }

  async models(signal?: AbortSignal): Promise<string[]> {
    let res: Response;
    try {
      res = await fetch(this.url('/models'), { headers: this.headers(), signal: signal ?? AbortSignal.timeout(5000) });
    } catch (err) {
      throw unreachable(this.who, err);
    }
    if (!res.ok) throw new BackendError('upstream_error', `${this.options.baseUrl}/models answered HTTP ${res.status}`);
    const body = (await res.json().catch(() => undefined)) as { data?: Array<{ id?: unknown }> } | undefined;
    if (!body || !Array.isArray(body.data)) throw new BackendError('upstream_error', `${this.options.baseUrl}/models answered without a model list`);
    return body.data.map((m) => String(m.id ?? '')).filter((id) => id !== '');
  }

  async *stream(request: BackendRequest, signal: AbortSignal, link?: UpstreamLink): AsyncIterable<BackendChunk[]> {
    // llama.cpp's /slots, read before and during the request, says after a Stop whether its slot stopped.
    const watch = await SlotWatch.begin({
      client: this.slots,
      lingering: this.lingering,
      log: this.options.log,
      upstream: this.options.baseUrl,
      graceMs: this.options.cancelGraceMs ?? 2000,
    });
    // After the /slots probe, which says whether this is llama.cpp (its fill-in-the-middle is /infill).
    const { path, url, payload } = this.route(request);
    if (signal.aborted) {
      // Nothing was sent: the engine never started on it.
      link?.engineStopped?.({ verdict: 'confirmed', ms: 0, how: 'not_started' });
      throw abortError(signal);
    }
    let finished = false;
    let abortedAt: number | undefined;
    let slotVerdict: Promise<EngineStop> | undefined;
    const onAbort = () => {
      if (finished) return;
      abortedAt = performance.now();
      // Polling starts at once: the slot is read while the connection closes.
      if (watch.probing) slotVerdict = watch.verdict(link, abortedAt);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    // Reported before this iterator ends, so the stream's stream_end carries it (bounded by the grace).
    const reportEngineStop = async (outcome: UpstreamCloseOutcome | undefined) => {
      if (abortedAt === undefined) return;
      const since = Math.round(performance.now() - abortedAt);
      const stop = slotVerdict ? await slotVerdict : { verdict: 'unconfirmed' as const, ms: since, how: outcome === 'forced' ? 'grace_expired' : watch.noProbeReason };
      link?.engineStopped?.(stop);
    };

    let upstream: UpstreamResponse;
    try {
      link?.upstreamRequested?.();
      upstream = await postStream(url, payload, signal, {
        killSignal: link?.killSignal,
        headers: { ...this.headers(), accept: 'text/event-stream' },
        trace: request.trace,
      });
    } catch (err) {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) {
        await reportEngineStop(undefined);
        throw abortError(signal);
      }
      throw unreachable(this.who, err);
    }
    link?.upstreamOpened?.();

    try {
      if (upstream.status >= 400) throw this.refusal(path, upstream.status, await readText(upstream.body));
      // The parser calls back synchronously per event; collect, then yield.
      const reader = new OpenAIEventReader();
      let pending: BackendChunk[] = [];
      let ended = false;
      let failure: BackendError | undefined;
      let sinceEvent = 0;
      const parser = createParser({
        onEvent: (event: EventSourceMessage) => {
          sinceEvent = 0;
          if (ended || failure) return;
          if (event.data === '[DONE]') {
            ended = true;
            return;
          }
          try {
            reader.read(event.data, pending);
          } catch (err) {
            failure = err instanceof BackendError ? err : new BackendError('upstream_error', describeError(err));
          }
        },
        onError: (err: ParseError) => {
          // llama.cpp ends a failed stream with an `error: {…}` line, a field SSE does not define.
          if (err.type === 'unknown-field' && err.field === 'error' && !failure && !ended) failure = llamaCppError(err.value ?? '');
        },
      });
      const decoder = new Utf8Chunks();
      let firstRead = true;
      for await (const bytes of upstream.body) {
        if (signal.aborted) break;
        const readAt = firstRead ? performance.now() : 0;
        // The parser holds an unfinished event in memory: one endless line, or
        // `data:` lines that never reach their blank line, must not grow it forever.
        sinceEvent += bytes.length;
        parser.feed(decoder.decode(bytes, { stream: true }));
        if (sinceEvent > MAX_EVENT_BYTES && !failure) {
          parser.reset({ consume: false });
          failure = new BackendError('upstream_error', `the upstream sent more than ${MAX_EVENT_BYTES} bytes without completing an event`, { fields: { limit: 'sse_event_bytes' } });
        }
        // Content before a failure in the same read still reaches the client.
        if (pending.length > 0) {
          if (firstRead) {
            firstRead = false;
            link?.upstreamFirstToken?.(readAt);
            watch.firstToken();
          }
          const batch = pending;
          pending = [];
          yield batch;
        }
        if (failure) throw failure;
        if (ended) break;
      }
      if (signal.aborted) throw abortError(signal);
      if (!ended) parser.reset({ consume: true });
      if (failure) throw failure;
      // Some servers end the body without `[DONE]` after the finish chunk; that is a complete reply too.
      if (!ended && reader.finish === undefined) throw new BackendError('upstream_error', 'the upstream closed the stream before it finished');
      finished = true;
      const last: BackendChunk[] = pending;
      reader.end(last);
      yield last;
    } catch (err) {
      if (signal.aborted) throw abortError(signal);
      if (err instanceof BackendError) throw err;
      throw cutOff(this.label, err);
    } finally {
      signal.removeEventListener('abort', onAbort);
      const started = performance.now();
      const outcome = await upstream.release(finished);
      link?.upstreamClosed?.(outcome, performance.now() - started);
      await reportEngineStop(outcome);
    }
  }
}
