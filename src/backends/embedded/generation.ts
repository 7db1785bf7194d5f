import type { ChatModelFunctions, LLamaChatGenerateResponseOptions, LlamaChat, LlamaChatResponse, LlamaChatResponseChunk } from 'node-llama-cpp';
import { BackendError, type BackendChunk, type BackendRequest } from '../types.js';
import type { EngineModule } from './engineModule.js';
import { type OutputPlan, finish } from './grammar/outputPlan.js';
import type { Lease } from './pool/modelPool.js';
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
  private result: LlamaChatResponse<ChatModelFunctions> | undefined;
  private failure: unknown;
  private ended = false;
  private promptTokens = 0;
  private completionTokens = 0;
  /** Token chunks handed out so far. */
  private yieldedTokens = 0;
  private readonly maxTokens: number;
  readonly settled: Promise<void>;

  /**
   * `plan` (grammar/outputPlan.ts) brings the history with its tool calls, and
   * the grammar of a response_format or forced call, or the tools the model may call.
   */
  constructor(
    module: EngineModule,
    lease: Lease,
    request: BackendRequest,
    private readonly plan: OutputPlan,
  ) {
    const chat: LlamaChat = new module.LlamaChat({ contextSequence: lease.sequence, chatWrapper: lease.loaded.chatWrapper, autoDisposeSequence: false });
    const meter = lease.sequence.tokenMeter.getState();
    const sampling = samplingOptions(request);
    this.maxTokens = sampling.maxTokens ?? Infinity;
    // node-llama-cpp takes a grammar or functions, never both (outputPlan makes sure).
    const constraint: LLamaChatGenerateResponseOptions<ChatModelFunctions> = plan.functions
      ? { functions: plan.functions, maxParallelFunctionCalls: plan.maxParallelFunctionCalls }
      : plan.grammar
        ? { grammar: plan.grammar }
        : {};
    const started = chat.generateResponse(plan.history, {
      ...sampling,
      ...constraint,
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
    // A forced call's JSON is not the answer's text: it ends as one tool_call.
    if (this.plan.forced && chunk.type === undefined) return;
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
    if (this.controller.signal.aborted) return;
    const end = this.result ? finish(this.plan, this.result) : { chunks: [], reason: 'stop' as const };
    const last = this.pending;
    this.pending = [];
    last.push(...end.chunks, { type: 'done', reason: end.reason, usage: { prompt_tokens: this.promptTokens, completion_tokens: this.completionTokens } });
    yield last;
  }
}
