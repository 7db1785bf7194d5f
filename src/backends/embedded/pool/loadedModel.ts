import type { ChatWrapper, LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import { BackendError } from '../../types.js';
import type { Engine } from '../engineModule.js';
import type { ModelFile } from '../models/modelFiles.js';

/** How a model's context is made (docs/embedded.md "Settings"). */
export interface ContextShape {
  /** Sequences, one per request generating at once (JARVIS_EMBEDDED_PARALLEL). */
  sequences: number;
  /** Tokens per sequence (JARVIS_EMBEDDED_CONTEXT), capped by the model's training context. */
  contextTokens: number;
  threads: number;
}

/**
 * A model in memory: its weights, one context with a sequence per parallel
 * request, and the chat wrapper its GGUF's metadata calls for (the template in
 * the file when there is one). The sequences are lent out by the pool.
 */
export class LoadedModel {
  /** The free sequences, each with its place among the model's (for log lines). */
  private readonly free: Array<{ sequence: LlamaContextSequence; index: number }>;
  readonly loadedAt = Date.now();

  private constructor(
    readonly file: ModelFile,
    readonly model: LlamaModel,
    readonly context: LlamaContext,
    readonly chatWrapper: ChatWrapper,
  ) {
    this.free = Array.from({ length: context.totalSequences }, (_, index) => ({ sequence: context.getSequence(), index })).reverse();
  }

  static async load(engine: Engine, file: ModelFile, shape: ContextShape): Promise<LoadedModel> {
    let model: LlamaModel;
    try {
      model = await engine.llama.loadModel({ modelPath: file.path });
    } catch (err) {
      throw new BackendError('upstream_error', `the model file ${file.path} could not be loaded; is it a complete GGUF file? (download it again, or remove it from JARVIS_MODELS_DIR)`, {
        detail: err instanceof Error ? err.message : String(err),
        fields: { model: file.name },
      });
    }
    try {
      const trained = model.trainContextSize > 0 ? model.trainContextSize : shape.contextTokens;
      const context = await model.createContext({ sequences: shape.sequences, contextSize: Math.min(shape.contextTokens, trained), threads: shape.threads });
      const chatWrapper = engine.module.resolveChatWrapper(model);
      return new LoadedModel(file, model, context, chatWrapper);
    } catch (err) {
      await model.dispose().catch(() => {});
      throw new BackendError('upstream_error', `the model ${file.name} loaded but its context of ${shape.contextTokens} tokens × ${shape.sequences} sequences could not be made (lower JARVIS_EMBEDDED_CONTEXT or JARVIS_EMBEDDED_PARALLEL)`, {
        detail: err instanceof Error ? err.message : String(err),
        fields: { model: file.name },
      });
    }
  }

  get name(): string {
    return this.file.name;
  }

  /** A free sequence: the pool's gate makes sure there is one. */
  take(): { sequence: LlamaContextSequence; index: number } {
    const free = this.free.pop();
    if (!free) throw new Error(`no free sequence of ${this.name}: the gate let too many in`);
    return free;
  }

  give(free: { sequence: LlamaContextSequence; index: number }): void {
    this.free.push(free);
  }

  /** Bytes it holds in memory (weights and context) and of those in VRAM (Ollama's `size`, `size_vram`). */
  memory(): { size: number; vram: number } {
    const context = this.context.memoryUsage;
    return { size: this.model.size + context.ram + context.vram, vram: context.vram };
  }

  async dispose(): Promise<void> {
    await this.context.dispose().catch(() => {});
    await this.model.dispose().catch(() => {});
  }
}
