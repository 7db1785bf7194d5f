// What a request's response_format, tools and tool_choice make of one
// generation on the embedded engine: the chat history, a grammar or the
// functions (node-llama-cpp takes one or the other), and how its result is
// read back (docs/embedded.md, "JSON output, tools and embeddings").
import type { ChatHistoryItem, ChatModelFunctions, Llama, LlamaChatResponseFunctionCall, LlamaGrammar } from 'node-llama-cpp';
import type { FinishReason } from '../../../shared/events.js';
import { BackendError, type BackendChunk, type BackendRequest } from '../../types.js';
import { chatHistoryWithTools, forcedCall, toolCallChunks, toolPlan } from '../tools.js';
import { responseConstraint } from './llamaGrammar.js';

export interface OutputPlan {
  history: ChatHistoryItem[];
  /** For generateResponse's `grammar` (response_format, or a forced call). */
  grammar?: LlamaGrammar;
  /** For generateResponse's `functions` (tool_choice auto). */
  functions?: ChatModelFunctions;
  maxParallelFunctionCalls?: number;
  /** The answer is a forced call: its text is not streamed, `finish` turns it into a tool_call. */
  forced: boolean;
  /** The most tokens an answer under the grammar takes (absent without one). */
  grammarMaxTokens?: number;
  /** Schema keywords the grammar accepted without enforcing them (for the log). */
  unenforced: string[];
}

/** Tokens the grammar may fill: max_tokens, else half the context (the prompt needs the rest). */
export function grammarBudget(maxTokens: number | undefined, contextTokens: number): number {
  return maxTokens ?? Math.floor(contextTokens / 2);
}

export async function outputPlan(llama: Llama, request: BackendRequest, budgetTokens: number): Promise<OutputPlan> {
  const history = chatHistoryWithTools(request.messages);
  const tools = toolPlan(request.tools, request.toolChoice, request.parallelToolCalls !== false);
  const json = request.responseFormat !== undefined && request.responseFormat.type !== 'text';
  if (tools.mode === 'forced') {
    const constraint = await responseConstraint(llama, tools.format, budgetTokens);
    const first = history[0];
    // The instructions join the system message, or become one.
    if (first?.type === 'system' && typeof first.text === 'string') history[0] = { type: 'system', text: `${first.text}\n\n${tools.instructions}` };
    else history.unshift({ type: 'system', text: tools.instructions });
    return { history, grammar: constraint?.grammar, forced: true, grammarMaxTokens: constraint?.bounds.maxTokens, unenforced: constraint?.bounds.unenforced ?? [] };
  }
  if (tools.mode === 'engine') {
    if (json) {
      throw new BackendError(
        'invalid_request',
        'the embedded engine cannot follow response_format and offer tools in one answer; send tool_choice "none", "required" or a function name, or leave out response_format',
      );
    }
    return { history, functions: tools.functions, maxParallelFunctionCalls: tools.maxParallel, forced: false, unenforced: [] };
  }
  const constraint = await responseConstraint(llama, request.responseFormat, budgetTokens);
  return { history, grammar: constraint?.grammar, forced: false, grammarMaxTokens: constraint?.bounds.maxTokens, unenforced: constraint?.bounds.unenforced ?? [] };
}

/** The chunks that end a generation under `plan`: its calls, and the finish reason. */
/** What `finish` reads of LlamaChat's response (with or without functions). */
export interface GeneratedResponse {
  response: string;
  functionCalls?: readonly LlamaChatResponseFunctionCall<ChatModelFunctions>[] | undefined;
  metadata: { stopReason: string };
}

export function finish(plan: OutputPlan, result: GeneratedResponse): { chunks: BackendChunk[]; reason: FinishReason } {
  const stop = result.metadata.stopReason;
  if (plan.forced) {
    if (stop === 'maxTokens' || stop === 'abort') return { chunks: [], reason: 'length' };
    return { chunks: [{ type: 'tool_call', call: forcedCall(result.response) }], reason: 'tool_calls' };
  }
  const chunks = toolCallChunks(result.functionCalls);
  if (chunks.length > 0) return { chunks, reason: 'tool_calls' };
  return { chunks: [], reason: stop === 'maxTokens' ? 'length' : 'stop' };
}
