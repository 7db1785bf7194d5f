import type { BackendRequest, ThinkLevel, ToolChoice } from '../../../backends/types.js';
import { inputMessages, invalid } from './input.js';
import type { ResponsesBody } from './schemas.js';
import type { OutputItem, ResponseEcho } from './types.js';

// A `POST /v1/responses` body as the protocol-neutral BackendRequest, and the fields
// its Response repeats back (docs/responses.md). What Jarvis cannot honour, and what
// would change the answer, is refused here with a 400 in words.

/** Fields whose feature Jarvis does not serve: each changes the answer, so each is refused rather than ignored. */
const REFUSED: Record<string, string> = {
  conversation: 'OpenAI Conversations are not served by Jarvis; send the conversation in "input"',
  prompt: 'stored prompt templates are OpenAI-hosted; send the prompt in "instructions" and "input"',
  context_management: 'server-side compaction is not served; send a shorter "input"',
  access_programs: 'programmatic tool calling is OpenAI-hosted and not served by Jarvis',
  image: 'image generation options are not served by Jarvis',
};

/**
 * Throws a 400 for what this request asks that Jarvis cannot do. `previous_response_id`
 * and `background` are the stored-responses part (docs/responses.md "Stored responses"):
 * refused here until a store serves them (`options.stored`).
 */
export function refuseWhatCannotBeHonoured(body: ResponsesBody, options: { stored: boolean }): void {
  for (const [field, why] of Object.entries(REFUSED)) {
    if (body[field] != null) throw invalid(field, `"${field}" is not supported: ${why}`);
  }
  if (!options.stored) {
    if (body.previous_response_id != null) {
      throw invalid('previous_response_id', 'previous_response_id is not supported yet: this Jarvis keeps no stored responses; send the whole conversation in "input"');
    }
    if (body.background === true) throw invalid('background', 'background responses are not supported yet: this Jarvis keeps no stored responses; call without "background"');
  }
  // Upstreams that score tokens are served on Chat Completions and the Ollama API (docs/api.md
  // "Logprobs and n"); this route's encoder and its stored replays carry none (docs/responses.md).
  const onChat = 'Jarvis\'s Responses route does not return logprobs; use /v1/chat/completions, which passes them on where the upstream provides them';
  if (body.top_logprobs != null && body.top_logprobs > 0) throw invalid('top_logprobs', `top_logprobs are not supported: ${onChat}`);
  const include = body.include ?? [];
  if (include.includes('message.output_text.logprobs')) throw invalid('include', `include "message.output_text.logprobs" is not supported: ${onChat}`);
  const verbosity = body.text?.verbosity;
  if (verbosity != null && verbosity !== 'medium') throw invalid('text.verbosity', `text.verbosity "${verbosity}" is not supported: local models have no verbosity control; leave it out`);
  (body.tools ?? []).forEach((tool, i) => {
    if (tool.type !== 'function') {
      throw invalid(`tools[${i}].type`, `tools[${i}]: "${tool.type.slice(0, 64)}" tools are OpenAI-hosted and not served by Jarvis; only function tools ({type: "function", name, parameters}) are`);
    }
    if (typeof tool.name !== 'string' || tool.name === '') throw invalid(`tools[${i}].name`, `tools[${i}]: a function tool needs a name`);
  });
  const choice = body.tool_choice;
  if (choice != null && typeof choice === 'object') {
    if (choice.type !== 'function') throw invalid('tool_choice', `tool_choice of type "${String(choice.type).slice(0, 64)}" is not supported; use "auto", "none", "required" or {type: "function", name}`);
    if (!body.tools?.some((t) => t.name === choice.name)) throw invalid('tool_choice', `tool_choice names the function "${String(choice.name)}", which is not in "tools"`);
  }
  const format = body.text?.format;
  if (format?.type === 'json_schema' && (format.schema == null || typeof format.schema !== 'object')) {
    throw invalid('text.format.schema', 'text.format of type json_schema needs "schema" (a JSON schema)');
  }
}

/** Maps the body onto a BackendRequest; `model` is the one the route settled on, `references` the stored items its `item_reference`s name. */
export function toBackendRequest(body: ResponsesBody, model: string, references: ReadonlyMap<string, OutputItem> = new Map()): BackendRequest {
  const messages = inputMessages(body.input, references);
  if (body.instructions != null && body.instructions !== '') messages.unshift({ role: 'system', content: body.instructions });
  if (messages.length === 0) throw invalid('input', 'the request has no input: send "input" (a string or a list of messages)');
  const request: BackendRequest = { model, messages };
  if (body.temperature != null) request.temperature = body.temperature;
  if (body.top_p != null) request.topP = body.top_p;
  if (body.max_output_tokens != null) request.maxTokens = body.max_output_tokens;
  const format = body.text?.format;
  if (format?.type === 'json_object') request.responseFormat = { type: 'json_object' };
  else if (format?.type === 'json_schema') {
    request.responseFormat = {
      type: 'json_schema',
      json_schema: { name: format.name ?? 'response', schema: format.schema, ...(format.strict == null ? {} : { strict: format.strict }), ...(format.description ? { description: format.description } : {}) },
    };
  }
  const tools = body.tools ?? [];
  if (tools.length > 0) {
    request.tools = tools.map((t) => ({
      type: 'function' as const,
      function: { name: t.name as string, ...(t.description != null ? { description: t.description } : {}), ...(t.parameters != null ? { parameters: t.parameters } : {}), ...(t.strict != null ? { strict: t.strict } : {}) },
    }));
  }
  const choice = body.tool_choice;
  if (choice != null) request.toolChoice = typeof choice === 'string' ? choice : ({ type: 'function', function: { name: choice.name as string } } satisfies ToolChoice);
  if (body.parallel_tool_calls != null) request.parallelToolCalls = body.parallel_tool_calls;
  const think = thinkOf(body);
  if (think !== undefined) request.think = think;
  return request;
}

function thinkOf(body: ResponsesBody): ThinkLevel | undefined {
  if (body.think != null) return body.think;
  const effort = body.reasoning?.effort;
  if (effort == null) return undefined;
  if (effort === 'none') return false;
  // OpenAI's extra-high effort: the highest a local model knows.
  if (effort === 'xhigh') return 'high';
  return effort as ThinkLevel;
}

/** The request's fields every Response object repeats (OpenAI's defaults where the request names none). */
export function echoOf(body: ResponsesBody): ResponseEcho {
  const format = body.text?.format;
  return {
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? null },
    store: body.store ?? true,
    background: body.background ?? false,
    temperature: body.temperature ?? null,
    text: { format: format ? { ...format } : { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: (body.tools ?? []).map((t) => ({ type: 'function', name: t.name, description: t.description ?? null, parameters: t.parameters ?? null, strict: t.strict ?? null })),
    top_p: body.top_p ?? null,
    truncation: body.truncation ?? 'disabled',
    metadata: body.metadata ?? {},
  };
}

/** The `item_reference` ids of the input: what the route asks the store for. */
export function referencedIds(body: ResponsesBody): string[] {
  if (!Array.isArray(body.input)) return [];
  const ids: string[] = [];
  for (const item of body.input) if (item.type === 'item_reference' && typeof item.id === 'string') ids.push(item.id);
  return ids;
}
