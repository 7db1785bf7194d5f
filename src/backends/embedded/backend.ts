import type { EmbedRequest, EmbedResult, ModelDescription, RunningModel } from '../modelInfo.js';
import { abortError } from '../upstream/abortable.js';
import type { LingeringWork, UpstreamLink } from '../upstream/upstreamLink.js';
import { BackendError, type Backend, type BackendChunk, type BackendRequest } from '../types.js';
import { ModelCatalog } from './models/catalog.js';
import { noEngineLog, type EngineLog } from './engineLog.js';
import { importEngine, startEngine, type Engine, type EngineModule } from './engineModule.js';
import { embedWithModel } from './embeddings.js';
import { EngineWork } from './engineWork.js';
import { Generation } from './generation.js';
import { PromptGeneration } from './promptGeneration.js';
import { type OutputPlan, grammarBudget, outputPlan } from './grammar/outputPlan.js';
import { samplingOptions } from './sampling.js';
import { chatHistoryWithTools, toolPlan } from './tools.js';
import { parseKeepAlive } from './pool/keepAlive.js';
import type { ModelFile } from './models/modelFiles.js';
import { ModelPool, type Lease } from './pool/modelPool.js';
import type { EmbeddedSettings } from './settings.js';

/**
 * The embedded engine: llama.cpp inside Jarvis's process through node-llama-cpp
 * (docs/embedded.md). The GGUF files of the models directory are its models; a
 * model loads on first use and unloads after its keep_alive; each request
 * borrows one of the model's sequences, and after a cancel the sequence's return
 * to the pool is what confirms that the engine stopped (docs/backends.md "Stop at the engine").
 */
export class EmbeddedBackend implements Backend {
  readonly name = 'embedded' as const;

  private module: Promise<EngineModule> | undefined;
  private engine: Promise<Engine> | undefined;
  readonly catalog: ModelCatalog;
  private readonly pool: ModelPool;
  private readonly work: EngineWork;
  private closed = false;

  constructor(
    readonly settings: EmbeddedSettings,
    private readonly log: EngineLog = noEngineLog,
  ) {
    this.catalog = new ModelCatalog(settings.modelsDir, () => this.engineModule());
    this.pool = new ModelPool(() => this.startEngine(), { sequences: settings.parallel, queue: settings.queue, contextTokens: settings.contextTokens, threads: settings.threads }, log);
    this.work = new EngineWork(log);
  }

  /** node-llama-cpp, imported once (a failure says how to install it, and is kept: installing needs a restart). */
  engineModule(): Promise<EngineModule> {
    return (this.module ??= importEngine(this.settings.module));
  }

  private startEngine(): Promise<Engine> {
    this.engine ??= startEngine(this.settings.module, this.settings.gpu);
    // A failed start is tried again by the next request (a GPU that was busy may be free then).
    this.engine.catch(() => (this.engine = undefined));
    return this.engine;
  }

  /** The model names; rejects when there are none or the engine is not installed (auto mode moves on). */
  async models(): Promise<string[]> {
    const files = await this.catalog.files();
    if (files.length === 0) throw new BackendError('upstream_unavailable', `no .gguf file in ${this.settings.modelsDir} (JARVIS_MODELS_DIR); see docs/embedded.md`);
    await this.engineModule();
    return files.map((f) => f.name);
  }

  listModels(): Promise<ModelDescription[]> {
    return this.catalog.list();
  }

  showModel(name: string): Promise<ModelDescription> {
    return this.catalog.show(name);
  }

  async runningModels(): Promise<RunningModel[]> {
    return Promise.all(
      this.pool.running().map(async ({ loaded, expiresAt, memory }) => ({
        ...(await this.catalog.describe(loaded.file)),
        size: memory.size,
        sizeVram: memory.vram,
        contextLength: loaded.context.contextSize,
        ...(expiresAt ? { expiresAt } : {}),
      })),
    );
  }

  /**
   * No version of its own for `/api/version`: Ollama clients compare that value as
   * Ollama's semver, so Jarvis answers the Ollama API level its routes follow (docs/api.md).
   * The engine's own versions are on the `engine_model_loaded` log line.
   */
  async version(): Promise<string | undefined> {
    return undefined;
  }

  /**
   * Vectors from the model (embeddings.ts). The request holds one of the model's
   * sequences while it runs, so it loads the model, keeps it loaded and waits in
   * its queue as a chat would.
   */
  async embed(request: EmbedRequest, signal: AbortSignal): Promise<EmbedResult> {
    if (this.closed) throw new BackendError('upstream_unavailable', 'the embedded engine is shutting down');
    const file = await this.catalog.file(request.model);
    const lease = await this.pool.lease(file, this.keepAliveOf(request), signal, () => {});
    try {
      const result = await embedWithModel(lease.loaded.model, { threads: this.settings.threads, contextTokens: this.settings.contextTokens }, request, signal);
      return { ...result, model: file.name };
    } finally {
      lease.release();
    }
  }

  /** count_tokens (docs/anthropic.md): the prompt as the engine renders it, through the model's own chat template and tokenizer. */
  async countTokens(request: BackendRequest, signal: AbortSignal): Promise<number> {
    if (this.closed) throw new BackendError('upstream_unavailable', 'the embedded engine is shutting down');
    const file = await this.catalog.file(request.model);
    const lease = await this.pool.lease(file, this.keepAliveOf(request), signal, () => {});
    try {
      // The tools as the model sees them offered (a forced call's instructions aside).
      const tools = toolPlan(request.tools, request.toolChoice === 'none' ? 'none' : undefined);
      const state = lease.loaded.chatWrapper.generateContextState({
        chatHistory: chatHistoryWithTools(request.messages),
        ...(tools.mode === 'engine' ? { availableFunctions: tools.functions } : {}),
      });
      return state.contextText.tokenize(lease.loaded.model.tokenizer).length;
    } finally {
      lease.release();
    }
  }

  /**
   * Ollama's load/unload call (docs/embedded.md "Loading and unloading"): loads the
   * model without taking a sequence and keeps it for `keep_alive`; `keep_alive: 0`
   * unloads it now (when a request still uses it, as soon as that ends).
   */
  async keepModel(request: { model: string; keepAlive?: string | number }): Promise<'load' | 'unload'> {
    if (this.closed) throw new BackendError('upstream_unavailable', 'the embedded engine is shutting down');
    const file = await this.catalog.file(request.model);
    const keepAliveMs = this.keepAliveOf(request);
    if (keepAliveMs <= 0) {
      await this.pool.drop(file);
      return 'unload';
    }
    await this.engineModule();
    await this.pool.keep(file, keepAliveMs, () => {});
    return 'load';
  }

  lingeringWork(): LingeringWork[] {
    return this.work.lingering();
  }

  async *stream(request: BackendRequest, signal: AbortSignal, link?: UpstreamLink): AsyncIterable<BackendChunk[]> {
    if (this.closed) throw new BackendError('upstream_unavailable', 'the embedded engine is shutting down');
    const file = await this.catalog.file(request.model);
    const module = await this.engineModule();
    // Jarvis's part ends here: waiting for a sequence and loading the model are the engine's time (Server-Timing).
    link?.upstreamRequested?.();
    if (request.prompt && (request.responseFormat || request.tools)) {
      throw new BackendError('unsupported_by_backend', 'the embedded engine completes a raw prompt without response_format or tools; send them to the chat routes instead');
    }
    const lease = await this.leaseFor(request, signal, link, file);
    const generation = request.prompt ? this.promptGeneration(module, lease, request) : await this.chatGeneration(module, lease, request);
    link?.upstreamOpened?.();
    const run = this.work.start(generation, lease, link, signal);
    let first = true;
    try {
      for await (const batch of generation.batches()) {
        if (first) {
          first = false;
          link?.upstreamFirstToken?.(performance.now());
        }
        yield batch;
      }
      if (signal.aborted) throw abortError(signal);
    } finally {
      await run.end();
    }
  }

  /** A text completion (docs/completions.md); a suffix the model cannot fill is refused before it runs. */
  private promptGeneration(module: EngineModule, lease: Lease, request: BackendRequest): PromptGeneration {
    try {
      return new PromptGeneration(module, lease, request);
    } catch (err) {
      lease.release();
      if (err instanceof BackendError) throw err;
      throw new BackendError('upstream_error', 'the embedded engine could not start completing the prompt', { detail: err instanceof Error ? err.message : String(err) });
    }
  }

  private async chatGeneration(module: EngineModule, lease: Lease, request: BackendRequest): Promise<Generation> {
    // response_format, tools and tool_choice (docs/embedded.md "JSON output, tools and embeddings"):
    // a schema the grammar cannot follow is the client's invalid_request, before anything generates.
    let plan: OutputPlan;
    try {
      plan = await outputPlan(lease.loaded.model.llama, request, grammarBudget(samplingOptions(request).maxTokens, lease.loaded.context.contextSize));
    } catch (err) {
      lease.release();
      throw err;
    }
    try {
      return new Generation(module, lease, request, plan);
    } catch (err) {
      lease.release();
      throw new BackendError('upstream_error', 'the embedded engine could not start generating', { detail: err instanceof Error ? err.message : String(err) });
    }
  }

  /** A sequence of the model, or the abort: an abort while waiting leaves the engine with nothing of this stream's. */
  private async leaseFor(request: BackendRequest, signal: AbortSignal, link: UpstreamLink | undefined, file: ModelFile): Promise<Lease> {
    const keepAliveMs = this.keepAliveOf(request);
    const waitStarted = performance.now();
    const leased = this.pool.lease(file, keepAliveMs, signal, () => link?.modelLoading?.(file.name), link?.id);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([leased, aborted]);
    } catch (err) {
      if (signal.aborted) {
        // A load still under way finishes for the next request; its sequence goes straight back.
        leased.then((lease) => lease.release(), () => {});
        link?.engineStopped?.({ verdict: 'confirmed', ms: 0, how: 'not_started' });
        this.log.debug('engine_stopped', { trace: link?.id, model: file.name, verdict: 'confirmed', how: 'not_started', waited_ms: Math.round(performance.now() - waitStarted) });
      }
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort!);
      aborted.catch(() => {});
    }
  }

  private keepAliveOf(request: { keepAlive?: string | number | undefined }): number {
    if (request.keepAlive === undefined) return this.settings.keepAliveMs;
    const ms = parseKeepAlive(request.keepAlive);
    if (ms === undefined) throw new BackendError('invalid_request', `keep_alive must be a duration (5m, 30s) or a number of seconds, got ${JSON.stringify(request.keepAlive)}`);
    return ms;
  }

  /**
   * Auto mode moved to another backend (docs/embedded.md "Auto mode"): the streams
   * already running here finish; each model unloads as soon as its last request
   * ends, and llama.cpp is freed once none is loaded. A request that still comes
   * (one that picked this backend just before the switch) is served, and its model
   * unloads when it ends.
   */
  async retire(): Promise<void> {
    await this.pool.retire();
    // A late request loading a model again keeps llama.cpp (its model unloads when it ends).
    if (!this.pool.empty) return;
    const engine = this.engine;
    this.engine = undefined;
    await (await engine?.catch(() => undefined))?.llama.dispose().catch(() => {});
  }

  /** Shutdown: every running generation is aborted and awaited (bounded), waiting requests refused, models unloaded. */
  async close(waitMs = 5000): Promise<void> {
    this.closed = true;
    await this.work.abortAll(waitMs);
    await this.pool.close(new BackendError('upstream_unavailable', 'the embedded engine is shutting down'));
    const engine = await this.engine?.catch(() => undefined);
    await engine?.llama.dispose().catch(() => {});
  }
}
