import type { LlamaChat, LlamaChatResponse, LlamaChatResponseChunk } from 'node-llama-cpp';
import { BackendError, type BackendChunk, type BackendRequest } from '../types.js';
import { chatHistory } from './chatHistory.js';
import type { EngineModule } from './engineModule.js';
import type { Lease } from './modelPool.js';
import { samplingOptions } from './sampling.js';

/**
 * One reply generated on a leased sequence by node-llama-cpp's stateless
 * LlamaChat (docs/embedded.md). The engine evaluates off the main thread and
 * calls back between tokens; the callbacks only append to `pending`, and the
 * reader takes everything that accumulated since its last read as one batch,
 * so no token costs an await. `settled` resolves once `generateResponse` has
 * returned: the sequence's evaluation has ended and it may be lent again.
 */
export class Generation {
  private pending: BackendChunk[] = [];
  private wake: (() => void) | undefined;
  private readonly controller = new AbortController();
  private result: LlamaChatResponse | undefined;
  private failure: unknown;
  private ended = false;
  private completionTokens = 0;
  /** Token chunks handed out so far. */
  private yieldedTokens = 0;
  private readonly maxTokens: number;
  readonly settled: Promise<void>;

  constructor(module: EngineModule, lease: Lease, request: BackendRequest) {
    const chat: LlamaChat = new module.LlamaChat({ contextSequence: lease.sequence, chatWrapper: lease.loaded.chatWrapper, autoDisposeSequence: false });
    const meter = lease.sequence.tokenMeter.getState();
    const history = chatHistory(request.messages);
    const sampling = samplingOptions(request);
    this.maxTokens = sampling.maxTokens ?? Infinity;
    const started = chat.generateResponse(history, {
      ...sampling,
      signal: this.controller.signal,
      stopOnAbortSignal: true,
      onResponseChunk: (chunk) => this.take(chunk),
    });
    this.settled = started.then(
      (result) => {
        this.result = result;
        this.completionTokens = lease.sequence.tokenMeter.diff(meter).usedOutputTokens;
      },
      (err: unknown) => {
        this.failure = err;
      },
    ).finally(() => {
      chat.dispose({ disposeSequence: false });
      this.ended = true;
      this.promptTokens = Math.max(0, lease.sequence.contextTokens.length - this.completionTokens);
      this.wake?.();
    });
  }

  private promptTokens = 0;

  /** Whether `generateResponse` has returned. */
  get finished(): boolean {
    return this.ended;
  }

  /** Asks the engine to stop after its current token; `settled` says when it has. */
  abort(reason?: unknown): void {
    this.controller.abort(reason);
    this.wake?.();
  }

  private take(chunk: LlamaChatResponseChunk): void {
    if (chunk.text === '') return;
    if (chunk.type === undefined) this.pending.push({ type: 'token', text: chunk.text });
    else if (chunk.segmentType === 'thought') this.pending.push({ type: 'reasoning', text: chunk.text });
    else return;
    if (this.pending.length === 1) this.wake?.();
  }

  /**
   * What the engine produced, in batches, then `done`; ends early (without
   * `done`) once `abort` was called. Throws what the engine threw, as a BackendError.
   */
  async *batches(): AsyncIterable<BackendChunk[]> {
    for (;;) {
      if (this.controller.signal.aborted) return;
      if (this.ended) break;
      // The batch that reaches max_tokens waits for the engine's end (it stops there) and goes with the `done`:
      // the stream sees the limit and the usage together, not a limit it must cut the engine off at.
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
      throw new BackendError('upstream_error', 'the embedded engine failed while generating; see the system log', {
        detail: this.failure instanceof Error ? this.failure.message : String(this.failure),
      });
    }
    if (this.failure === undefined && this.controller.signal.aborted) return;
    const stopReason = this.result?.metadata.stopReason;
    const last = this.pending;
    this.pending = [];
    last.push({ type: 'done', reason: stopReason === 'maxTokens' ? 'length' : 'stop', usage: { prompt_tokens: this.promptTokens, completion_tokens: this.completionTokens } });
    yield last;
  }
}
