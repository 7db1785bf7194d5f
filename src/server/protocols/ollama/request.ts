import type { BackendMessage, BackendRequest, ContentPart, PromptInput, ResponseFormat, ThinkLevel, ToolCall, ToolSpec } from '../../../backends/types.js';
import { HttpError } from '../../errors.js';
import { decodeContext } from './generateContext.js';
import type { OllamaChatBody, OllamaGenerateBody, OllamaMessage } from './schemas.js';

// Ollama's request bodies as one BackendRequest, the shape every backend streams:
// `/api/chat` maps message for message; `/api/generate` is a chat of its own
// (the `system`, the conversation carried in `context`, the prompt as the user's turn),
// or, with `raw` or `suffix`, a text completion of the prompt as written.

function refuse(field: string, why: string): never {
  throw new HttpError('invalid_request', `"${field}" ${why}`);
}

/**
 * Ollama `options` go to an Ollama upstream as they are; the sampling ones every
 * backend knows are also named, so an OpenAI-compatible upstream gets them too.
 */
function sampling(options: Record<string, unknown> | null | undefined): Partial<BackendRequest> {
  if (!options) return {};
  const out: Partial<BackendRequest> = { options };
  const num = (key: string) => (typeof options[key] === 'number' ? (options[key] as number) : undefined);
  const set = <K extends keyof BackendRequest>(key: K, value: BackendRequest[K] | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  set('temperature', num('temperature'));
  // -1 (no limit) and -2 (fill the context) are Ollama's "no limit".
  const numPredict = num('num_predict');
  if (numPredict !== undefined && numPredict > 0) out.maxTokens = Math.floor(numPredict);
  set('topP', num('top_p'));
  set('seed', num('seed'));
  set('frequencyPenalty', num('frequency_penalty'));
  set('presencePenalty', num('presence_penalty'));
  const stop = options.stop;
  if (typeof stop === 'string') out.stop = [stop];
  else if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) out.stop = stop as string[];
  return out;
}

/** Ollama images are bare base64; the backends take data URLs. The type is read from the bytes' signature. */
export function imageUrl(base64: string): string {
  const type = base64.startsWith('/9j/')
    ? 'jpeg'
    : base64.startsWith('R0lGOD')
      ? 'gif'
      : base64.startsWith('UklGR')
        ? 'webp'
        : base64.startsWith('Qk')
          ? 'bmp'
          : 'png';
  return `data:image/${type};base64,${base64}`;
}

function content(text: string, images: string[] | null | undefined): string | ContentPart[] {
  if (!images || images.length === 0) return text;
  const parts: ContentPart[] = text ? [{ type: 'text', text }] : [];
  for (const image of images) parts.push({ type: 'image', url: imageUrl(image) });
  return parts;
}

/**
 * Ollama's messages onto BackendMessages. Ollama's tool calls may have no id, and
 * its tool results name the function (`tool_name`) rather than the call: the ids
 * OpenAI-compatible upstreams need are made here, and each result is paired with
 * the first unanswered call of that name (else the first unanswered call).
 */
function messages(list: OllamaMessage[]): BackendMessage[] {
  let unanswered: ToolCall[] = [];
  return list.map((m, i): BackendMessage => {
    const out: BackendMessage = { role: m.role as BackendMessage['role'], content: content(m.content ?? '', m.images) };
    if (m.role === 'assistant' && m.tool_calls && m.tool_calls.length > 0) {
      out.toolCalls = m.tool_calls.map((call, k) => {
        if (typeof call?.function?.name !== 'string' || call.function.name === '') refuse(`messages[${i}].tool_calls[${k}]`, 'needs function.name');
        const args = call.function.arguments;
        return { id: call.id || `call_${i}_${k}`, name: call.function.name, arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}) };
      });
      unanswered = [...out.toolCalls];
    }
    if (m.role === 'tool') {
      const answered =
        (m.tool_call_id && unanswered.find((c) => c.id === m.tool_call_id)) ||
        (m.tool_name && unanswered.find((c) => c.name === m.tool_name)) ||
        unanswered[0];
      if (answered) unanswered = unanswered.filter((c) => c !== answered);
      const id = m.tool_call_id || answered?.id;
      if (id) out.toolCallId = id;
      const name = m.tool_name || answered?.name;
      if (name) out.name = name;
    }
    return out;
  });
}

function tools(list: unknown[] | null | undefined): ToolSpec[] | undefined {
  if (!list || list.length === 0) return undefined;
  return list.map((raw, i) => {
    const tool = raw as { type?: unknown; function?: { name?: unknown; description?: unknown; parameters?: unknown } } | null;
    if (tool?.type !== 'function' || typeof tool.function?.name !== 'string' || tool.function.name === '') {
      refuse(`tools[${i}]`, 'must be {"type":"function","function":{"name":…}}');
    }
    const { name, description, parameters } = tool.function;
    return {
      type: 'function',
      function: {
        name,
        ...(typeof description === 'string' ? { description } : {}),
        ...(parameters && typeof parameters === 'object' ? { parameters: parameters as Record<string, unknown> } : {}),
      },
    };
  });
}

/** Ollama's `format`: "json", or a JSON schema. */
function responseFormat(format: OllamaChatBody['format']): ResponseFormat | undefined {
  if (format === undefined || format === null || format === '') return undefined;
  if (format === 'json') return { type: 'json_object' };
  if (typeof format === 'object') return { type: 'json_schema', json_schema: { name: 'response', schema: format } };
  refuse('format', `must be "json" or a JSON schema, not ${JSON.stringify(format)}`);
}

/** Ollama's `think`: a boolean or a level; its "max" is the highest level the backends know. */
function think(value: OllamaChatBody['think']): ThinkLevel | undefined {
  if (value === undefined || value === null) return undefined;
  return value === 'max' ? 'high' : (value as ThinkLevel);
}

function common(body: OllamaChatBody | OllamaGenerateBody): Partial<BackendRequest> {
  const out: Partial<BackendRequest> = sampling(body.options);
  const format = responseFormat(body.format);
  if (format) out.responseFormat = format;
  const level = think(body.think);
  if (level !== undefined) out.think = level;
  if (body.keep_alive !== undefined && body.keep_alive !== null) out.keepAlive = body.keep_alive;
  if (body.logprobs === true) {
    out.logprobs = true;
    if (typeof body.top_logprobs === 'number') out.topLogprobs = body.top_logprobs;
  }
  return out;
}

export function chatRequest(body: OllamaChatBody, model: string): BackendRequest {
  const specs = tools(body.tools);
  return { model, messages: messages(body.messages ?? []), ...common(body), ...(specs ? { tools: specs } : {}) };
}

/** The conversation a generate request continues (from `context`), its system prompt and its prompt (with its images). */
export function generateMessages(body: OllamaGenerateBody): BackendMessage[] {
  const earlier = body.context && body.context.length > 0 ? decodeContext(body.context) : [];
  const history = body.system ? earlier.filter((m) => m.role !== 'system') : earlier;
  const system: BackendMessage[] = body.system ? [{ role: 'system', content: body.system }] : [];
  return [...system, ...history, { role: 'user', content: content(body.prompt ?? '', body.images) }];
}

/**
 * `raw` or `suffix` make a text completion (docs/completions.md): the prompt goes
 * to the backend as written (Ollama's own `/api/generate`, an OpenAI-compatible
 * `/v1/completions`, the embedded engine's LlamaCompletion), not as a chat turn.
 */
export function isPromptRequest(body: OllamaGenerateBody): boolean {
  return body.raw === true || (body.suffix !== undefined && body.suffix !== null && body.suffix !== '');
}

export function generateRequest(body: OllamaGenerateBody, model: string): BackendRequest {
  // Jarvis cannot apply an Ollama template of the client's for upstreams that are not Ollama.
  if (body.template) refuse('template', "is not supported: Jarvis applies the model's own template; send raw: true with the prompt already templated instead");
  if (!isPromptRequest(body)) return { model, messages: generateMessages(body), ...common(body) };
  const mode = body.raw ? 'raw' : 'suffix';
  if (body.context && body.context.length > 0) refuse('context', `cannot be continued with ${mode}: send the whole prompt`);
  if (body.images && body.images.length > 0) refuse('images', `are not supported with ${mode}: send them to /api/chat`);
  const prompt: PromptInput = { text: body.prompt ?? '' };
  if (body.suffix) prompt.suffix = body.suffix;
  if (body.raw !== undefined) prompt.raw = body.raw;
  if (body.system && !body.raw) prompt.system = body.system;
  return { model, messages: [], prompt, ...common(body) };
}
