import type { BackendMessage, BackendRequest, ContentPart, ThinkLevel, ToolCall, ToolChoice } from '../../../backends/types.js';
import { HttpError } from '../../errors.js';
import type { AnthropicBlock, AnthropicMessage, AnthropicMessagesBody, AnthropicTool } from './schemas.js';

/**
 * Maps a Messages API body onto the protocol-neutral BackendRequest, or throws a 400
 * naming what cannot be served (docs/anthropic.md). `model` is the one the route
 * settled on (after JARVIS_MODEL_ALIASES). `thinking` and `redacted_thinking` blocks of
 * earlier turns are dropped: their signatures are Anthropic's, and no upstream takes
 * reasoning back in.
 */
export function toBackendRequest(body: AnthropicMessagesBody, model: string): BackendRequest {
  checkRequired(body);
  const messages: BackendMessage[] = [];
  const system = systemText(body.system, 'system');
  if (system !== '') messages.push({ role: 'system', content: system });
  body.messages.forEach((message, i) => messages.push(...toBackendMessages(message, i)));
  const request: BackendRequest = { model, messages, maxTokens: body.max_tokens };
  if (body.temperature != null) request.temperature = body.temperature;
  if (body.top_p != null) request.topP = body.top_p;
  if (body.top_k != null) request.options = { top_k: body.top_k };
  if (body.stop_sequences != null && body.stop_sequences.length > 0) request.stop = body.stop_sequences;
  const tools = body.tools ?? [];
  if (tools.length > 0) request.tools = tools.map(toToolSpec);
  const choice = toolChoiceOf(body, tools);
  if (choice) {
    request.toolChoice = choice.choice;
    if (choice.parallel !== undefined) request.parallelToolCalls = choice.parallel;
  }
  const think = thinkOf(body);
  if (think !== undefined) request.think = think;
  return request;
}

/** What Anthropic requires of every request, in its words: a 400 for each that is missing. */
export function checkRequired(body: Pick<AnthropicMessagesBody, 'model' | 'messages'> & { max_tokens?: number }, needsMaxTokens = true): void {
  if (typeof body.model !== 'string' || body.model === '') throw invalid('model', 'model: Field required');
  if (needsMaxTokens && body.max_tokens == null) throw invalid('max_tokens', 'max_tokens: Field required');
  if (!Array.isArray(body.messages)) throw invalid('messages', 'messages: Field required');
}

/** `system` as a string or text blocks (their `cache_control` ignored). */
export function systemText(system: AnthropicMessagesBody['system'], where: string): string {
  if (system == null) return '';
  if (typeof system === 'string') return system;
  return system
    .map((block, k) => {
      if (block.type !== 'text' || typeof block.text !== 'string') throw invalid(where, `${where}[${k}]: the system prompt takes text blocks only`);
      return block.text;
    })
    .join('\n\n');
}

function toBackendMessages(message: AnthropicMessage, i: number): BackendMessage[] {
  const where = `messages[${i}]`;
  if (message.role === 'system') return [{ role: 'system', content: typeof message.content === 'string' ? message.content : systemText(message.content, `${where}.content`) }];
  if (typeof message.content === 'string') return [{ role: message.role, content: message.content }];
  // Tool results become `tool` messages of their own, before what else the user says.
  const results: BackendMessage[] = [];
  const parts: ContentPart[] = [];
  const calls: ToolCall[] = [];
  message.content.forEach((block, k) => {
    const at = `${where}.content[${k}]`;
    switch (block.type) {
      case 'text':
        if (typeof block.text !== 'string') throw invalid(at, `${at}: a text block needs "text" (a string)`);
        parts.push({ type: 'text', text: block.text });
        return;
      case 'image':
        if (message.role !== 'user') throw invalid(at, `${at}: images are accepted in user messages only`);
        parts.push(imagePart(block, at));
        return;
      case 'tool_use':
        if (message.role !== 'assistant') throw invalid(at, `${at}: tool_use blocks belong to assistant messages`);
        if (typeof block.id !== 'string' || typeof block.name !== 'string') throw invalid(at, `${at}: a tool_use block needs "id" and "name"`);
        calls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) });
        return;
      case 'tool_result':
        if (message.role !== 'user') throw invalid(at, `${at}: tool_result blocks belong to user messages`);
        if (typeof block.tool_use_id !== 'string' || block.tool_use_id === '') throw invalid(at, `${at}: a tool_result block needs the "tool_use_id" of the call it answers`);
        results.push({ role: 'tool', toolCallId: block.tool_use_id, content: toolResultText(block, at, parts) });
        return;
      case 'thinking':
      case 'redacted_thinking':
        // Reasoning of an earlier turn, echoed back: no upstream takes it in.
        return;
      default:
        throw invalid(at, `${at}: content block type "${block.type}" is not supported; send text, image, tool_use, tool_result or thinking blocks (docs/anthropic.md)`);
    }
  });
  const out: BackendMessage[] = [...results];
  const hasImage = parts.some((p) => p.type === 'image');
  const content = hasImage ? parts : parts.map((p) => (p.type === 'text' ? p.text : '')).join('');
  if (calls.length > 0) out.push({ role: 'assistant', content, toolCalls: calls });
  else if (parts.length > 0 || results.length === 0) out.push({ role: message.role, content });
  return out;
}

function imagePart(block: AnthropicBlock, at: string): ContentPart {
  const source = block.source;
  if (source?.type === 'base64' && typeof source.data === 'string' && typeof source.media_type === 'string' && /^image\/[\w.+-]+$/.test(source.media_type)) {
    return { type: 'image', url: `data:${source.media_type};base64,${source.data}` };
  }
  if (source?.type === 'url' && typeof source.url === 'string' && /^https?:\/\//i.test(source.url)) return { type: 'image', url: source.url };
  throw invalid(at, `${at}: an image needs a source of type "base64" (media_type image/…, data) or "url" (an http(s) URL)`);
}

/**
 * A tool result's content as text: a string, or text blocks joined. A tool message carries
 * text only on every upstream, so its images (Claude Code's Read of a picture) go to `images`:
 * the user turn that follows the results.
 */
function toolResultText(block: AnthropicBlock, at: string, images: ContentPart[]): string {
  const content = block.content;
  let text: string;
  if (content == null) text = '';
  else if (typeof content === 'string') text = content;
  else if (Array.isArray(content)) {
    text = (content as AnthropicBlock[])
      .map((part, k) => {
        if (part.type === 'text' && typeof part.text === 'string') return part.text;
        if (part.type === 'image') {
          images.push(imagePart(part, `${at}.content[${k}]`));
          return '[image: in the next message]';
        }
        throw invalid(at, `${at}.content[${k}]: a tool result passes on text and image blocks only, not "${String(part.type)}"`);
      })
      .join('\n');
  } else throw invalid(at, `${at}: "content" of a tool_result is a string or text blocks`);
  return block.is_error === true ? `Error: ${text}` : text;
}

function toToolSpec(tool: AnthropicTool, k: number): NonNullable<BackendRequest['tools']>[number] {
  if (tool.type != null && tool.type !== 'custom') {
    throw invalid(`tools[${k}]`, `tools[${k}]: "${tool.type}" is one of Anthropic's server tools, which run on Anthropic's servers; Jarvis passes on only your own tools (with "input_schema")`);
  }
  if (tool.input_schema == null || typeof tool.input_schema !== 'object') throw invalid(`tools[${k}]`, `tools[${k}] ("${tool.name}"): input_schema is required`);
  return { type: 'function', function: { name: tool.name, ...(tool.description ? { description: tool.description } : {}), parameters: tool.input_schema } };
}

function toolChoiceOf(body: AnthropicMessagesBody, tools: AnthropicTool[]): { choice: ToolChoice; parallel?: boolean } | undefined {
  const choice = body.tool_choice;
  if (choice == null) return undefined;
  const parallel = 'disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use === true ? false : undefined;
  const withParallel = (c: ToolChoice) => (parallel === undefined ? { choice: c } : { choice: c, parallel });
  switch (choice.type) {
    case 'auto':
      return withParallel('auto');
    case 'any':
      return withParallel('required');
    case 'none':
      return { choice: 'none' };
    case 'tool':
      if (!tools.some((t) => t.name === choice.name)) throw invalid('tool_choice', `tool_choice names the tool "${choice.name}", which is not in "tools"`);
      return withParallel({ type: 'function', function: { name: choice.name } });
    default:
      throw invalid('tool_choice', `tool_choice type "${String((choice as { type: unknown }).type)}" is not one of auto, any, tool, none`);
  }
}

/**
 * `thinking: {type:'enabled'}` asks the model to think (no upstream takes a token budget:
 * `budget_tokens` is not passed on), `disabled` asks it not to, `adaptive` leaves it to
 * the model. `output_config.effort` gives a level.
 */
function thinkOf(body: AnthropicMessagesBody): ThinkLevel | undefined {
  const effort = body.output_config?.effort;
  if (effort === 'low' || effort === 'medium' || effort === 'high') return effort;
  if (effort === 'xhigh' || effort === 'max') return 'high';
  const type = body.thinking?.type;
  if (type === 'enabled') return true;
  if (type === 'disabled') return false;
  return undefined;
}

function invalid(param: string, message: string): HttpError {
  return new HttpError('invalid_request', message, { param });
}
