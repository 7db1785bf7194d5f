import type { FinishReason } from '../../shared/events.js';
import { BackendError, type BackendChunk } from '../types.js';
import type { Lease } from './pool/modelPool.js';

/** How a run ended, as the stream sees it: what comes with the `done`, and its reason. */
export interface RunEnding {
  chunks: BackendChunk[];
  reason: FinishReason;
}

/**
 * One run of the engine on a leased sequence (a chat's Generation, a text
 * completion's PromptGeneration), read as batches. The engine evaluates off
 * the main thread and calls back between tokens; the callbacks only append to
 * `pending`, and the reader takes everything that accumulated since its last
 * read as one batch, so no token costs an await (docs/embedded.md). `settled`
 * resolves once the engine's call has returned: the sequence's evaluation has
 * ended and it may be lent again.
 */
export abstract class EngineRun<R> {
  protected pending: BackendChunk[] = [];
  protected readonly controller = new AbortController();
  private wake: (() => void) | undefined;
  private result: R | undefined;
  private failure: unknown;
  private ended = false;
  private promptTokens = 0;
  private completionTokens = 0;
  /** Of the prompt's tokens, those the engine evaluated; the others came from the sequence's KV cache. */
  private evaluatedTokens = 0;
  /** Token chunks handed out so far. */
  private yieldedTokens = 0;
  private settledRun: Promise<void> | undefined;

  constructor(
    private readonly maxTokens: number,
    /** What the engine was doing, for the error a failure becomes ("generating"). */
    private readonly doing: string,
  ) {}

  /** Whether the engine's call has returned. */
  get finished(): boolean {
    return this.ended;
  }

  get settled(): Promise<void> {
    return this.settledRun ?? Promise.resolve();
  }

  /**
   * The prompt once the run has ended: its tokens, and how many of them the engine evaluated.
   * The rest were already in the sequence's KV cache, left there by the sequence's last
   * request (docs/upstreams.md "Affinity": what keeping a conversation on its server saves).
   */
  get prompt(): { tokens: number; evaluated: number } | undefined {
    return this.ended ? { tokens: this.promptTokens, evaluated: this.evaluatedTokens } : undefined;
  }

  /** Asks the engine to stop after its current token; `settled` says when it has. */
  abort(reason?: unknown): void {
    this.controller.abort(reason);
    this.wake?.();
  }

  /** Starts the engine's call and follows it: its result, its token counts from the sequence's meter, and `dispose` once it returned. */
  protected follow(lease: Lease, start: () => Promise<R>, dispose: () => void): void {
    const meter = lease.sequence.tokenMeter.getState();
    this.settledRun = start()
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
        dispose();
        this.ended = true;
        this.promptTokens = Math.max(0, lease.sequence.contextTokens.length - this.completionTokens);
        // The meter counts the prompt's last token, evaluated for the first token's logits, as output.
        const used = lease.sequence.tokenMeter.diff(meter);
        this.evaluatedTokens = Math.min(this.promptTokens, used.usedInputTokens + (used.usedOutputTokens > 0 ? 1 : 0));
        this.wake?.();
      });
  }

  /** Queues a chunk the engine produced (from its callback). */
  protected push(chunk: BackendChunk): void {
    this.pending.push(chunk);
    if (this.pending.length === 1) this.wake?.();
  }

  /** What the run's result adds at its end, and why it ended (absent: the call failed or was aborted). */
  protected abstract ending(result: R | undefined): RunEnding;

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
      throw new BackendError('upstream_error', `the embedded engine failed while ${this.doing}; see the system log`, {
        detail: this.failure instanceof Error ? this.failure.message : String(this.failure),
      });
    }
    if (this.controller.signal.aborted) return;
    const end = this.ending(this.result);
    const last = this.pending;
    this.pending = [];
    last.push(...end.chunks, { type: 'done', reason: end.reason, usage: { prompt_tokens: this.promptTokens, completion_tokens: this.completionTokens } });
    yield last;
  }
}
