import type { ChatModelFunctions, LLamaChatGenerateResponseOptions, LlamaChat, LlamaChatResponse, LlamaChatResponseChunk } from 'node-llama-cpp';
import type { BackendRequest } from '../types.js';
import type { EngineModule } from './engineModule.js';
import { EngineRun, type RunEnding } from './engineRun.js';
import { type OutputPlan, finish } from './grammar/outputPlan.js';
import type { Lease } from './pool/modelPool.js';
import { samplingOptions } from './sampling.js';

/**
 * One reply generated on a leased sequence by node-llama-cpp's stateless
 * LlamaChat (docs/embedded.md), read as batches (engineRun.ts).
 */
export class Generation extends EngineRun<LlamaChatResponse<ChatModelFunctions>> {
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
    const sampling = samplingOptions(request);
    super(sampling.maxTokens ?? Infinity, 'generating');
    const chat: LlamaChat = new module.LlamaChat({ contextSequence: lease.sequence, chatWrapper: lease.loaded.chatWrapper, autoDisposeSequence: false });
    // node-llama-cpp takes a grammar or functions, never both (outputPlan makes sure).
    const constraint: LLamaChatGenerateResponseOptions<ChatModelFunctions> = plan.functions
      ? { functions: plan.functions, maxParallelFunctionCalls: plan.maxParallelFunctionCalls }
      : plan.grammar
        ? { grammar: plan.grammar }
        : {};
    this.follow(
      lease,
      () =>
        chat.generateResponse(plan.history, {
          ...sampling,
          ...constraint,
          signal: this.controller.signal,
          stopOnAbortSignal: true,
          onResponseChunk: (chunk) => this.take(chunk),
        }),
      () => chat.dispose({ disposeSequence: false }),
    );
  }

  private take(chunk: LlamaChatResponseChunk): void {
    if (chunk.text === '') return;
    // A forced call's JSON is not the answer's text: it ends as one tool_call.
    if (this.plan.forced && chunk.type === undefined) return;
    if (chunk.type === undefined) this.push({ type: 'token', text: chunk.text });
    else if (chunk.segmentType === 'thought') this.push({ type: 'reasoning', text: chunk.text });
  }

  protected ending(result: LlamaChatResponse<ChatModelFunctions> | undefined): RunEnding {
    return result ? finish(this.plan, result) : { chunks: [], reason: 'stop' };
  }
}
