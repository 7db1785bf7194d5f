import type { LlamaCompletion, LlamaCompletionResponse } from 'node-llama-cpp';
import type { FinishReason } from '../../shared/events.js';
import { BackendError, type BackendChunk, type BackendRequest } from '../types.js';
import type { EngineModule } from './engineModule.js';
import type { Lease } from './pool/modelPool.js';
import { samplingOptions } from './sampling.js';

/**
 * A text completion (docs/completions.md) on a leased sequence, by node-llama-cpp's
 * LlamaCompletion: the prompt as written, no chat template; with a `suffix`, its
 * fill-in-the-middle (`generateInfillCompletion`), which needs the model's infill
 * tokens. Read like a chat's Generation (generation.ts): the engine's callbacks
 * only append to `pending`, the reader takes what accumulated as one batch, and
 * `settled` says when the sequence may be lent again.
 */
export class PromptGeneration {
  private pending: BackendChunk[] = [];
  private wake: (() => void) | undefined;
  private readonly controller = new AbortController();
  private result: LlamaCompletionResponse | undefined;
  private failure: unknown;
  private ended = false;
  private promptTokens = 0;
  private completionTokens = 0;
  private yieldedTokens = 0;
  private readonly maxTokens: number;
  readonly settled: Promise<void>;

  /** Throws `unsupported_by_backend` (before anything runs) for a `suffix` the model has no infill tokens for. */
  constructor(module: EngineModule, lease: Lease, request: BackendRequest) {
    const prompt = request.prompt!;
    const completion: LlamaCompletion = new module.LlamaCompletion({ contextSequence: lease.sequence, autoDisposeSequence: false });
    if (prompt.suffix !== undefined && !completion.infillSupported) {
      completion.dispose({ disposeSequence: false });
      throw new BackendError(
        'unsupported_by_backend',
        `the model ${lease.loaded.name} has no fill-in-the-middle tokens, so the embedded engine cannot complete with a suffix; use a code model made for it (a Qwen2.5-Coder or CodeLlama GGUF), or leave out the suffix`,
      );
    }
    const meter = lease.sequence.tokenMeter.getState();
    const sampling = samplingOptions(request);
    this.maxTokens = sampling.maxTokens ?? Infinity;
    const options = {
      ...sampling,
      signal: this.controller.signal,
      stopOnAbortSignal: true,
      onTextChunk: (text: string) => this.take(text),
    };
    const started =
      prompt.suffix !== undefined
        ? completion.generateInfillCompletionWithMeta(prompt.text, prompt.suffix, options)
        : completion.generateCompletionWithMeta(prompt.text, options);
    this.settled = started
      .then(
        (result) => {
          this.result = result;
          this.completionTokens = lease.sequence.tokenMeter.diff(meter).usedOutputTokens;
        },
        (err: unknown) => {
          this.failure = err;
        },
      )
      .finally(() => {
        completion.dispose({ disposeSequence: false });
        this.ended = true;
        this.promptTokens = Math.max(0, lease.sequence.contextTokens.length - this.completionTokens);
        this.wake?.();
      });
  }

  get finished(): boolean {
    return this.ended;
  }

  /** Asks the engine to stop after its current token; `settled` says when it has. */
  abort(reason?: unknown): void {
    this.controller.abort(reason);
    this.wake?.();
  }

  private take(text: string): void {
    if (text === '') return;
    this.pending.push({ type: 'token', text });
    if (this.pending.length === 1) this.wake?.();
  }

  /** The text in batches, then `done`; ends early (without `done`) once `abort` was called. */
  async *batches(): AsyncIterable<BackendChunk[]> {
    for (;;) {
      if (this.controller.signal.aborted) return;
      if (this.ended) break;
      // As in generation.ts: the batch reaching max_tokens goes with the `done`.
      if (this.pending.length > 0 && this.yieldedTokens + this.pending.length < this.maxTokens) {
        const batch = this.pending;
        this.pending = [];
        this.yieldedTokens += batch.length;
        yield batch;
        continue;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
    if (this.failure !== undefined) {
      throw new BackendError('upstream_error', 'the embedded engine failed while completing the prompt; see the system log', {
        detail: this.failure instanceof Error ? this.failure.message : String(this.failure),
      });
    }
    if (this.controller.signal.aborted) return;
    const reason: FinishReason = this.result?.metadata.stopReason === 'maxTokens' ? 'length' : 'stop';
    const last = this.pending;
    this.pending = [];
    last.push({ type: 'done', reason, usage: { prompt_tokens: this.promptTokens, completion_tokens: this.completionTokens } });
    yield last;
  }
}
