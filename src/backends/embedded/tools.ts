// Tools on the embedded engine (docs/embedded.md, "JSON output, tools and
// embeddings"). `tool_choice` auto goes through node-llama-cpp's function
// calling: every chat wrapper has a call syntax (the template's own, else
// node-llama-cpp's default `||call:`), so there is no wrapper that cannot call.
// node-llama-cpp cannot force a call, so `required` and a named function are
// answered under a grammar instead: the model writes {"name":…,"arguments":…}
// for one of the offered tools, bounded like any response_format.
import { randomBytes } from 'node:crypto';
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelFunctions, ChatModelResponse, LlamaChatResponseFunctionCall } from 'node-llama-cpp';
import { BackendError, type BackendMessage, type BackendChunk, type ResponseFormat, type ToolCall, type ToolChoice, type ToolSpec, messageText } from '../types.js';
import { toolParams } from './grammar/toolParams.js';

/** How a request's tools reach the engine. */
export type ToolPlan =
  /** No tools offered (none given, or tool_choice none). */
  | { mode: 'none' }
  /** node-llama-cpp's function calling: the model may call or answer. */
  | { mode: 'engine'; functions: ChatModelFunctions; maxParallel: number }
  /** A call is required: answer under this response format, then read it with `forcedCall`. */
  | { mode: 'forced'; format: ResponseFormat; instructions: string };

/** Characters of a string parameter, and items of an array, in engine mode: bounds on node-llama-cpp's grammar. */
const PARAM_CAPS = { stringChars: 1024, items: 32 };
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** An id like OpenAI's: `call_` and 24 letters and digits. */
export function toolCallId(): string {
  let id = 'call_';
  for (const byte of randomBytes(24)) id += ALPHABET[byte % ALPHABET.length];
  return id;
}

/** What the request's tools and tool_choice ask of the engine. */
export function toolPlan(tools: readonly ToolSpec[] | undefined, choice: ToolChoice | undefined, parallel = true): ToolPlan {
  if (!tools || tools.length === 0 || choice === 'none') return { mode: 'none' };
  if (choice === 'required' || typeof choice === 'object') {
    const name = typeof choice === 'object' ? choice.function.name : undefined;
    const offered = name === undefined ? tools : tools.filter((t) => t.function.name === name);
    if (offered.length === 0) throw new BackendError('invalid_request', `tool_choice names the function ${JSON.stringify(name)}, which is not among "tools"`);
    return { mode: 'forced', format: callFormat(offered), instructions: callInstructions(offered) };
  }
  const functions: Record<string, { description?: string; params?: ReturnType<typeof toolParams> }> = {};
  for (const tool of tools) {
    functions[tool.function.name] = {
      ...(tool.function.description ? { description: tool.function.description } : {}),
      params: toolParams(tool.function.parameters ?? { type: 'object', properties: {} }, PARAM_CAPS),
    };
  }
  return { mode: 'engine', functions, maxParallel: parallel ? 8 : 1 };
}

/** The schema of one call of one of `tools`. */
function callFormat(tools: readonly ToolSpec[]): ResponseFormat {
  const calls = tools.map((t) => ({
    type: 'object',
    properties: { name: { const: t.function.name }, arguments: t.function.parameters ?? { type: 'object', properties: {} } },
    required: ['name', 'arguments'],
    additionalProperties: false,
  }));
  const schema = calls.length === 1 ? calls[0] : { anyOf: calls };
  return { type: 'json_schema', json_schema: { name: 'tool_call', schema: schema as Record<string, unknown> } };
}

/** A system note telling the model which functions it must call, and how. */
function callInstructions(tools: readonly ToolSpec[]): string {
  const lines = tools.map((t) => `- ${t.function.name}${t.function.description ? `: ${t.function.description}` : ''}\n  parameters: ${JSON.stringify(t.function.parameters ?? {})}`);
  return [
    'You must call one of these functions now. Answer only with JSON: {"name": <function name>, "arguments": <its parameters>}.',
    ...lines,
  ].join('\n');
}

/** The call a forced answer holds (the grammar made it valid JSON of the call schema). */
export function forcedCall(text: string): ToolCall {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BackendError('upstream_error', 'the embedded engine wrote a tool call that is not JSON', { detail: err instanceof Error ? err.message : String(err) });
  }
  const call = parsed as { name?: unknown; arguments?: unknown };
  if (typeof call.name !== 'string') throw new BackendError('upstream_error', 'the embedded engine wrote a tool call without a function name');
  return { id: toolCallId(), name: call.name, arguments: JSON.stringify(call.arguments ?? {}) };
}

/** The engine's function calls as `tool_call` chunks. */
export function toolCallChunks(calls: readonly LlamaChatResponseFunctionCall<ChatModelFunctions>[] | undefined): BackendChunk[] {
  return (calls ?? []).map((c) => ({ type: 'tool_call', call: { id: toolCallId(), name: c.functionName, arguments: JSON.stringify(c.params ?? {}) } }));
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The conversation as node-llama-cpp's chat history, tools included: an
 * assistant's calls become function calls in its response, and each `tool`
 * message is the result of the call it answers (node-llama-cpp keeps a call and
 * its result together, and the model's words after them in the same response).
 * A result whose call is not in the history is read to the model as a user
 * message. A last model response is continued.
 */
export function chatHistoryWithTools(messages: readonly BackendMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const calls = new Map<string, ChatModelFunctionCall>();
  // The model response that tool results and a following assistant message continue.
  let open: ChatModelResponse | undefined;
  for (const message of messages) {
    const text = messageText(message);
    if (message.role === 'assistant') {
      const response: ChatModelResponse = open ?? { type: 'model', response: [] };
      if (!open) history.push(response);
      if (text !== '') response.response.push(text);
      for (const call of message.toolCalls ?? []) {
        const item: ChatModelFunctionCall = { type: 'functionCall', name: call.name, params: parseOr(call.arguments), result: '' };
        response.response.push(item);
        calls.set(call.id, item);
      }
      open = (message.toolCalls?.length ?? 0) > 0 ? response : undefined;
      continue;
    }
    if (message.role === 'tool') {
      const call = message.toolCallId === undefined ? undefined : calls.get(message.toolCallId);
      if (call && open) {
        call.result = parseOr(text);
        continue;
      }
      history.push({ type: 'user', text: `Result of ${message.name ?? message.toolCallId ?? 'the tool'}: ${text}` });
    } else history.push({ type: message.role, text });
    open = undefined;
  }
  if (history.at(-1)?.type !== 'model') history.push({ type: 'model', response: [] });
  return history;
}
