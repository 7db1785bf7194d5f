import type { BackendMessage, BackendRequest, ContentPart, ThinkLevel, ToolCall } from '../../../backends/types.js';
import { HttpError } from '../../errors.js';
import { MAX_CHOICES } from '../../../shared/logprobs.js';
import type { OpenAIChatBody, OpenAIContentPart, OpenAIMessage } from './schemas.js';

/**
 * Maps an OpenAI chat body onto the protocol-neutral BackendRequest, or throws a
 * 400 naming what cannot be served. `model` is the one the route settled on.
 */
export function toBackendRequest(body: OpenAIChatBody, model: string): BackendRequest {
  refuseWhatCannotBeHonoured(body);
  const request: BackendRequest = { model, messages: body.messages.map(toBackendMessage) };
  const set = <K extends keyof BackendRequest>(key: K, value: BackendRequest[K] | null | undefined) => {
    if (value !== undefined && value !== null) request[key] = value;
  };
  set('temperature', body.temperature);
  set('maxTokens', body.max_completion_tokens ?? body.max_tokens);
  set('topP', body.top_p);
  set('stop', typeof body.stop === 'string' ? [body.stop] : body.stop);
  set('seed', body.seed);
  set('frequencyPenalty', body.frequency_penalty);
  set('presencePenalty', body.presence_penalty);
  const format = body.response_format;
  if (format && format.type !== 'text') {
    if (format.type === 'json_schema') {
      if (!format.json_schema?.schema) throw invalid('response_format', 'response_format json_schema needs json_schema.schema');
      const { name, schema, strict, description } = format.json_schema;
      request.responseFormat = {
        type: 'json_schema',
        json_schema: { name: name ?? 'response', schema, ...(strict == null ? {} : { strict }), ...(description ? { description } : {}) },
      };
    } else request.responseFormat = { type: 'json_object' };
  }
  if (body.tools && body.tools.length > 0) {
    request.tools = body.tools.map((tool) => {
      const { name, description, parameters, strict } = tool.function;
      return { type: 'function', function: { name, ...(description != null ? { description } : {}), ...(parameters != null ? { parameters } : {}), ...(strict != null ? { strict } : {}) } };
    });
  }
  set('toolChoice', body.tool_choice);
  set('parallelToolCalls', body.parallel_tool_calls);
  set('think', thinkOf(body));
  set('keepAlive', body.keep_alive);
  set('options', body.options);
  if (body.logprobs === true) {
    request.logprobs = true;
    set('topLogprobs', body.top_logprobs);
  }
  if (body.n != null && body.n > 1) request.n = body.n;
  return request;
}

function refuseWhatCannotBeHonoured(body: OpenAIChatBody): void {
  // Each choice is a whole generation on the upstream, under one stream's caps: a few, not hundreds.
  if (body.n != null && body.n > MAX_CHOICES) {
    throw invalid('n', `n=${body.n} is more than ${MAX_CHOICES}, the most Jarvis asks of an upstream in one request (each choice is a whole generation); send several requests`);
  }
  if (body.n != null && body.n > 1 && body.tools && body.tools.length > 0) {
    throw invalid('n', `n=${body.n} with tools is not supported: Jarvis assembles the tool calls of one reply; send ${body.n} requests instead`);
  }
  if (body.top_logprobs != null && body.logprobs !== true) throw invalid('top_logprobs', 'top_logprobs needs "logprobs": true');
  if (body.modalities?.some((m) => m !== 'text')) throw invalid('modalities', `only text output is supported, not ${body.modalities.filter((m) => m !== 'text').join(', ')}`);
  const choice = body.tool_choice;
  if (choice && typeof choice === 'object' && !body.tools?.some((t) => t.function.name === choice.function.name)) {
    throw invalid('tool_choice', `tool_choice names the function "${choice.function.name}", which is not in "tools"`);
  }
}

function thinkOf(body: OpenAIChatBody): ThinkLevel | undefined {
  if (body.think != null) return body.think;
  const effort = body.reasoning_effort;
  if (effort == null) return undefined;
  return effort === 'none' ? false : effort;
}

function toBackendMessage(message: OpenAIMessage, i: number): BackendMessage {
  const where = `messages[${i}]`;
  const role = message.role === 'developer' ? 'system' : message.role;
  const out: BackendMessage = { role, content: '' };
  if (message.name != null) out.name = message.name;

  const toolCalls = message.tool_calls ?? [];
  if (toolCalls.length > 0) {
    if (role !== 'assistant') throw invalid(`${where}.tool_calls`, `${where}: only assistant messages carry tool_calls`);
    out.toolCalls = toolCalls.map((call, k): ToolCall => ({ id: call.id ?? `call_${i}_${k}`, name: call.function.name, arguments: call.function.arguments ?? '{}' }));
  }
  if (role === 'tool') {
    if (message.tool_call_id == null || message.tool_call_id === '') throw invalid(`${where}.tool_call_id`, `${where}: a tool message needs the tool_call_id of the call it answers`);
    out.toolCallId = message.tool_call_id;
  }

  const content = message.content;
  if (content == null) {
    // An assistant turn that only called tools has no content; every other message must say something.
    if (role !== 'assistant' || toolCalls.length === 0) throw invalid(`${where}.content`, `${where}: content is required (null is allowed only for an assistant message with tool_calls)`);
    return out;
  }
  out.content = typeof content === 'string' ? content : toParts(content, where, role);
  return out;
}

/** Content parts; text-only arrays become one string, which every upstream accepts. */
function toParts(parts: OpenAIContentPart[], where: string, role: BackendMessage['role']): string | ContentPart[] {
  const out: ContentPart[] = [];
  let images = 0;
  parts.forEach((part, k) => {
    const at = `${where}.content[${k}]`;
    if (part.type === 'text' || part.type === 'input_text') {
      if (typeof part.text !== 'string') throw invalid(at, `${at}: a text part needs "text" (a string)`);
      out.push({ type: 'text', text: part.text });
    } else if (part.type === 'image_url') {
      if (role !== 'user') throw invalid(at, `${at}: images are accepted in user messages only`);
      const image = part.image_url as unknown;
      const url = typeof image === 'string' ? image : typeof image === 'object' && image !== null ? (image as { url?: unknown }).url : undefined;
      if (typeof url !== 'string' || !/^(data:image\/[\w.+-]+;base64,|https?:\/\/)/i.test(url)) {
        throw invalid(at, `${at}: image_url.url must be a data:image/…;base64 URL or an http(s) URL`);
      }
      const detail = typeof image === 'object' && image !== null ? (image as { detail?: unknown }).detail : undefined;
      out.push({ type: 'image', url, ...(typeof detail === 'string' ? { detail } : {}) });
      images++;
    } else if (part.type === 'refusal' && role === 'assistant') {
      // An earlier refusal, echoed back: no content to pass on.
    } else {
      throw invalid(at, `${at}: content part type "${String(part.type)}" is not supported; send "text" or "image_url" parts`);
    }
  });
  if (images > 0) return out;
  return out.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

function invalid(param: string, message: string): HttpError {
  return new HttpError('invalid_request', message, { param });
}
