import type { BackendRequest } from '../../../backends/types.js';
import type { ChatMessage } from '../../../shared/events.js';
import { HttpError } from '../../errors.js';
import { decodeContext } from './generateContext.js';
import type { OllamaChatBody, OllamaGenerateBody, OllamaMessage } from './schemas.js';

// Ollama's request bodies as one BackendRequest, the shape every backend streams:
// `/api/chat` maps message for message; `/api/generate` is a chat of its own
// (the `system`, the conversation carried in `context`, the prompt as the user's turn).

function refuse(field: string, why: string): never {
  throw new HttpError(400, 'unsupported_field', `"${field}" is not supported by Jarvis's Ollama API: ${why}`);
}

/** Ollama `options` Jarvis passes on: the sampling ones every backend knows. */
function sampling(options: Record<string, unknown> | null | undefined): Pick<BackendRequest, 'temperature' | 'maxTokens'> {
  const out: Pick<BackendRequest, 'temperature' | 'maxTokens'> = {};
  if (!options) return out;
  const { temperature, num_predict: numPredict } = options;
  if (typeof temperature === 'number') out.temperature = temperature;
  // -1 (infinite) and -2 (fill the context) are Ollama's "no limit".
  if (typeof numPredict === 'number' && numPredict > 0) out.maxTokens = Math.floor(numPredict);
  return out;
}

function message(m: OllamaMessage, i: number): ChatMessage {
  if (m.images && m.images.length > 0) refuse(`messages[${i}].images`, 'images are not passed upstream yet');
  if (m.tool_calls && m.tool_calls.length > 0) refuse(`messages[${i}].tool_calls`, 'tool calls are not passed upstream yet');
  if (m.role === 'tool') refuse(`messages[${i}].role`, 'tool messages are not passed upstream yet');
  return { role: m.role as ChatMessage['role'], content: m.content ?? '' };
}

function common(body: OllamaChatBody | OllamaGenerateBody): void {
  if (body.format !== undefined && body.format !== null && body.format !== '') refuse('format', 'structured output is not passed upstream yet');
  if (body.think !== undefined && body.think !== null && body.think !== false) refuse('think', 'thinking is not passed upstream yet');
}

export function chatRequest(body: OllamaChatBody, model: string): BackendRequest {
  common(body);
  if (body.tools && body.tools.length > 0) refuse('tools', 'tools are not passed upstream yet');
  return { model, messages: (body.messages ?? []).map(message), ...sampling(body.options) };
}

/** The conversation a generate request continues (from `context`), its system prompt and its prompt. */
export function generateMessages(body: OllamaGenerateBody): ChatMessage[] {
  const earlier = body.context && body.context.length > 0 ? decodeContext(body.context) : [];
  const history = body.system ? earlier.filter((m) => m.role !== 'system') : earlier;
  const system: ChatMessage[] = body.system ? [{ role: 'system', content: body.system }] : [];
  return [...system, ...history, { role: 'user', content: body.prompt ?? '' }];
}

export function generateRequest(body: OllamaGenerateBody, model: string): BackendRequest {
  common(body);
  // These shape the raw prompt Ollama builds from its template; a chat upstream builds its own.
  if (body.raw) refuse('raw', 'Jarvis sends the prompt to the model as a chat message, in the model\'s own template');
  if (body.template) refuse('template', 'Jarvis sends the prompt to the model as a chat message, in the model\'s own template');
  if (body.suffix) refuse('suffix', 'fill-in-the-middle needs a raw completion, and Jarvis serves chat');
  if (body.images && body.images.length > 0) refuse('images', 'images are not passed upstream yet');
  return { model, messages: generateMessages(body), ...sampling(body.options) };
}
