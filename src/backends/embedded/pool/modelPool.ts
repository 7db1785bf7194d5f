import type { LlamaContextSequence } from 'node-llama-cpp';
import type { Engine } from '../engineModule.js';
import type { EngineLog } from '../engineLog.js';
import { LoadedModel, type ContextShape } from './loadedModel.js';
import type { ModelFile } from '../models/modelFiles.js';
import { SequenceGate } from './sequenceGate.js';

/** A sequence lent to one request; `release()` gives it back (once its evaluation has ended). */
export interface Lease {
  loaded: LoadedModel;
  sequence: LlamaContextSequence;
  /** Its place among the model's sequences, for log lines and lingering work. */
  index: number;
  release(): void;
}

/** One model's place in the pool: loaded or not, who waits for it, when it unloads. */
interface Slot {
  file: ModelFile;
  gate: SequenceGate;
  loading?: Promise<LoadedModel> | undefined;
  loaded?: LoadedModel | undefined;
  unloading?: Promise<void> | undefined;
  /** The last request's keep_alive, in ms (Infinity: never). */
  keepAliveMs: number;
  unloadTimer?: NodeJS.Timeout | undefined;
  expiresAt?: number | undefined;
}

export interface PoolOptions extends ContextShape {
  queue: number;
}

/**
 * The loaded models (docs/embedded.md "Loading and unloading"): a model loads on
 * its first request (once, however many arrive together), lends its sequences
 * through its gate, and unloads once it has been idle for its `keep_alive`; a
 * model in use never unloads.
 */
export class ModelPool {
  private readonly slots = new Map<string, Slot>();
  /** Auto mode moved on (retire()): every model unloads as soon as it is idle. */
  private retired = false;
  /** Called once at the next unload (retire() waits on models in use). */
  private onUnloaded: Array<() => void> = [];

  constructor(
    private readonly engine: () => Promise<Engine>,
    private readonly options: PoolOptions,
    private readonly log: EngineLog,
  ) {}

  /**
   * A sequence of `file`'s model, loading it first if needed (`onLoading` is
   * called then, before the wait). Waits in the model's queue when every sequence
   * is busy; a full queue is an `engine_busy` BackendError.
   */
  async lease(file: ModelFile, keepAliveMs: number, signal: AbortSignal, onLoading: () => void, trace?: string): Promise<Lease> {
    const slot = this.slotOf(file);
    const queuedAt = performance.now();
    let queued = false;
    await slot.gate.enter(signal, (waiting) => {
      queued = true;
      this.log.info('engine_queued', { trace, model: file.name, waiting, parallel: this.options.sequences });
    });
    if (queued) this.log.debug('engine_dequeued', { trace, model: file.name, waited_ms: Math.round(performance.now() - queuedAt) });
    this.keepUntilIdle(slot, keepAliveMs);
    let loaded: LoadedModel;
    try {
      if (!slot.loaded) onLoading();
      loaded = await this.load(slot);
    } catch (err) {
      this.leave(slot);
      throw err;
    }
    const free = loaded.take();
    let released = false;
    return {
      loaded,
      sequence: free.sequence,
      index: free.index,
      release: () => {
        if (released) return;
        released = true;
        loaded.give(free);
        this.leave(slot);
      },
    };
  }

  /**
   * Ollama's load call (a chat with no messages): loads `file`'s model without
   * taking a sequence, and keeps it for `keepAliveMs` from now (from its last
   * request's end when one is running).
   */
  async keep(file: ModelFile, keepAliveMs: number, onLoading: () => void): Promise<void> {
    const slot = this.slotOf(file);
    slot.keepAliveMs = this.retired ? 0 : keepAliveMs;
    if (!slot.loaded) onLoading();
    await this.load(slot);
    if (slot.gate.idle) this.idle(slot);
  }

  /**
   * Ollama's unload call (`keep_alive: 0` and no messages): unloads the model now
   * when idle; when a request uses it, the last one to end unloads it.
   */
  async drop(file: ModelFile): Promise<void> {
    const slot = this.slots.get(file.path);
    if (!slot) return;
    slot.keepAliveMs = 0;
    await slot.loading?.catch(() => {});
    if (slot.gate.idle) await this.unload(slot, 'unload_request');
    await slot.unloading;
  }

  private slotOf(file: ModelFile): Slot {
    let slot = this.slots.get(file.path);
    if (!slot) {
      slot = { file, gate: new SequenceGate(this.options.sequences, this.options.queue, file.name), keepAliveMs: 0 };
      this.slots.set(file.path, slot);
    }
    return slot;
  }

  /** In use: no unload timer runs, and the request's keep_alive is the model's from now on. */
  private keepUntilIdle(slot: Slot, keepAliveMs: number): void {
    slot.keepAliveMs = this.retired ? 0 : keepAliveMs;
    clearTimeout(slot.unloadTimer);
    slot.unloadTimer = undefined;
    slot.expiresAt = undefined;
  }

  private async load(slot: Slot): Promise<LoadedModel> {
    if (slot.loaded) return slot.loaded;
    if (!slot.loading) {
      const started = performance.now();
      slot.loading = (async () => {
        if (slot.unloading) await slot.unloading;
        const engine = await this.engine();
        const loaded = await LoadedModel.load(engine, slot.file, this.options);
        slot.loaded = loaded;
        this.log.info('engine_model_loaded', {
          model: slot.file.name,
          load_ms: Math.round(performance.now() - started),
          sequences: loaded.context.totalSequences,
          context: loaded.context.contextSize,
          bytes: loaded.memory().size,
          gpu: String(engine.llama.gpu),
          node_llama_cpp: await engine.module.getModuleVersion().catch(() => undefined),
          llama_cpp: engine.llama.llamaCppRelease.release,
        });
        return loaded;
      })().finally(() => (slot.loading = undefined));
    }
    return slot.loading;
  }

  private leave(slot: Slot): void {
    slot.gate.leave();
    if (slot.gate.idle) this.idle(slot);
  }

  /** Idle now: the unload timer of its keep_alive starts (again). */
  private idle(slot: Slot): void {
    clearTimeout(slot.unloadTimer);
    slot.unloadTimer = undefined;
    slot.expiresAt = undefined;
    if (!slot.loaded) return;
    if (slot.keepAliveMs === Infinity) return;
    if (slot.keepAliveMs <= 0) return void this.unload(slot, this.retired ? 'backend_switched' : 'keep_alive');
    slot.expiresAt = Date.now() + slot.keepAliveMs;
    slot.unloadTimer = setTimeout(() => void this.unload(slot, 'keep_alive'), slot.keepAliveMs);
    slot.unloadTimer.unref();
  }

  private unload(slot: Slot, why: string): Promise<void> {
    clearTimeout(slot.unloadTimer);
    slot.unloadTimer = undefined;
    slot.expiresAt = undefined;
    const loaded = slot.loaded;
    if (!loaded || !slot.gate.idle) return Promise.resolve();
    slot.loaded = undefined;
    const unloading = loaded.dispose().then(() => {
      this.log.info('engine_model_unloaded', { model: loaded.name, why, loaded_s: Math.round((Date.now() - loaded.loadedAt) / 1000) });
      for (const resolve of this.onUnloaded.splice(0)) resolve();
    });
    const tracked: Promise<void> = unloading.finally(() => {
      if (slot.unloading === tracked) slot.unloading = undefined;
    });
    slot.unloading = tracked;
    return tracked;
  }

  /** The models loaded now (Ollama's `/api/ps`), with their memory and when they unload. */
  running(): Array<{ loaded: LoadedModel; expiresAt: string | undefined; memory: { size: number; vram: number } }> {
    const out = [];
    for (const slot of this.slots.values()) {
      if (!slot.loaded) continue;
      const expires = slot.keepAliveMs === Infinity ? undefined : (slot.expiresAt ?? Date.now() + slot.keepAliveMs);
      out.push({ loaded: slot.loaded, expiresAt: expires === undefined ? undefined : new Date(expires).toISOString(), memory: slot.loaded.memory() });
    }
    return out;
  }

  /**
   * Auto mode switched to another backend: each model unloads as soon as its
   * requests have ended (without cutting them, nor refusing one that still comes),
   * and from now on after every request. Resolves once none is loaded.
   */
  async retire(): Promise<void> {
    this.retired = true;
    for (const slot of this.slots.values()) slot.keepAliveMs = 0;
    while (!this.empty) {
      const busy = [...this.slots.values()].filter((slot) => slot.loading || slot.loaded || slot.unloading);
      for (const slot of busy) {
        await slot.loading?.catch(() => {});
        if (slot.gate.idle) await this.unload(slot, 'backend_switched');
        await slot.unloading;
        // In use: its last request's end unloads it; wait for that.
        if (slot.loaded) await new Promise<void>((resolve) => this.onUnloaded.push(resolve));
      }
    }
  }

  /** No model loaded, loading or unloading. */
  get empty(): boolean {
    return [...this.slots.values()].every((slot) => !slot.loading && !slot.loaded && !slot.unloading);
  }

  /** Refuses the waiting requests and unloads every model; the caller has ended the running ones first. */
  async close(err: unknown): Promise<void> {
    for (const slot of this.slots.values()) slot.gate.rejectWaiting(err);
    await Promise.all([...this.slots.values()].map(async (slot) => {
      await slot.loading?.catch(() => {});
      if (slot.gate.idle) await this.unload(slot, 'shutdown');
      else slot.keepAliveMs = 0; // the last lease to leave unloads it
    }));
  }
}
