import type { LlamaCompletion, LlamaCompletionResponse } from 'node-llama-cpp';
import { BackendError, type BackendRequest } from '../types.js';
import type { EngineModule } from './engineModule.js';
import { EngineRun, type RunEnding } from './engineRun.js';
import type { Lease } from './pool/modelPool.js';
import { samplingOptions } from './sampling.js';

/**
 * A text completion (docs/completions.md) on a leased sequence, by node-llama-cpp's
 * LlamaCompletion: the prompt as written, no chat template; with a `suffix`, its
 * fill-in-the-middle (`generateInfillCompletion`), which needs the model's infill
 * tokens. Read as batches like a chat's Generation (engineRun.ts).
 */
export class PromptGeneration extends EngineRun<LlamaCompletionResponse> {
  /** Throws `unsupported_by_backend` (before anything runs) for a `suffix` the model has no infill tokens for. */
  constructor(module: EngineModule, lease: Lease, request: BackendRequest) {
    const sampling = samplingOptions(request);
    super(sampling.maxTokens ?? Infinity, 'completing the prompt');
    const prompt = request.prompt!;
    const completion: LlamaCompletion = new module.LlamaCompletion({ contextSequence: lease.sequence, autoDisposeSequence: false });
    if (prompt.suffix !== undefined && !completion.infillSupported) {
      completion.dispose({ disposeSequence: false });
      throw new BackendError(
        'unsupported_by_backend',
        `the model ${lease.loaded.name} has no fill-in-the-middle tokens, so the embedded engine cannot complete with a suffix; use a code model made for it (a Qwen2.5-Coder or CodeLlama GGUF), or leave out the suffix`,
      );
    }
    const options = {
      ...sampling,
      signal: this.controller.signal,
      stopOnAbortSignal: true,
      onTextChunk: (text: string) => {
        if (text !== '') this.push({ type: 'token', text });
      },
    };
    this.follow(
      lease,
      () =>
        prompt.suffix !== undefined
          ? completion.generateInfillCompletionWithMeta(prompt.text, prompt.suffix, options)
          : completion.generateCompletionWithMeta(prompt.text, options),
      () => completion.dispose({ disposeSequence: false }),
    );
  }

  protected ending(result: LlamaCompletionResponse | undefined): RunEnding {
    return { chunks: [], reason: result?.metadata.stopReason === 'maxTokens' ? 'length' : 'stop' };
  }
}
