import type { BackendMessage, ContentPart, ToolCall } from '../../../backends/types.js';
import { HttpError } from '../../errors.js';
import type { ResponsesInputItem } from './schemas.js';
import type { OutputItem } from './types.js';

/**
 * A Responses `input` (a string, or a list of messages and items) as the
 * protocol-neutral conversation (docs/responses.md "Input"):
 * - messages (`role` user/assistant/system/developer; `developer` becomes `system`),
 *   their content a string or `input_text`/`input_image`/`output_text` parts;
 * - `function_call` items join the assistant turn before them (or start one);
 *   `function_call_output` items become tool messages;
 * - `reasoning` items are dropped: earlier thinking is not given back to the model
 *   (the chat templates of local models drop it too), and their text may be encrypted;
 * - `item_reference` items are replaced by the stored items `references` holds; a
 *   reference to a reasoning item is dropped like the item itself.
 */
export function inputMessages(input: string | ResponsesInputItem[] | null | undefined, references: ReadonlyMap<string, OutputItem>): BackendMessage[] {
  if (input == null) return [];
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  const out: BackendMessage[] = [];
  input.forEach((raw, i) => {
    const where = `input[${i}]`;
    let item = raw;
    if (item.type === 'item_reference') {
      const id = typeof item.id === 'string' ? item.id : '';
      const stored = references.get(id);
      if (stored === undefined) {
        if (id.startsWith('rs_')) return;
        throw invalid(where, `${where}: item_reference "${id.slice(0, 128)}" names no stored item this Jarvis holds; send the item itself (or call with store: false, which makes clients send whole items)`);
      }
      item = stored as unknown as ResponsesInputItem;
    }
    addItem(out, item, where);
  });
  return out;
}

function addItem(out: BackendMessage[], item: ResponsesInputItem, where: string): void {
  const type = item.type ?? 'message';
  switch (type) {
    case 'message':
      out.push(message(item, where));
      return;
    case 'function_call': {
      const call = functionCall(item, where);
      const last = out.at(-1);
      // A turn's text and its calls arrive as separate items: one assistant message upstream.
      if (last && last.role === 'assistant') (last.toolCalls ??= []).push(call);
      else out.push({ role: 'assistant', content: '', toolCalls: [call] });
      return;
    }
    case 'function_call_output': {
      const callId = item.call_id;
      if (typeof callId !== 'string' || callId === '') throw invalid(`${where}.call_id`, `${where}: a function_call_output needs the call_id of the call it answers`);
      out.push({ role: 'tool', toolCallId: callId, content: toolOutput(item.output, where) });
      return;
    }
    case 'reasoning':
      return;
    default:
      throw invalid(`${where}.type`, `${where}: input items of type "${type.slice(0, 64)}" are not supported; Jarvis serves messages, function_call, function_call_output and reasoning items (docs/responses.md)`);
  }
}

const ROLES: Record<string, BackendMessage['role']> = { user: 'user', assistant: 'assistant', system: 'system', developer: 'system' };

function message(item: ResponsesInputItem, where: string): BackendMessage {
  const role = typeof item.role === 'string' ? ROLES[item.role] : undefined;
  if (role === undefined) throw invalid(`${where}.role`, `${where}: a message's role must be user, assistant, system or developer`);
  const content = item.content;
  if (typeof content === 'string') return { role, content };
  if (!Array.isArray(content)) throw invalid(`${where}.content`, `${where}: a message needs content (a string or a list of parts)`);
  return { role, content: parts(content, `${where}.content`, role) };
}

/** Content parts; text-only lists become one string, which every upstream accepts. */
function parts(list: Array<{ type: string; [key: string]: unknown }>, where: string, role: BackendMessage['role']): string | ContentPart[] {
  const out: ContentPart[] = [];
  let images = 0;
  list.forEach((part, k) => {
    const at = `${where}[${k}]`;
    const type = typeof part?.type === 'string' ? part.type : '';
    if (type === 'input_text' || type === 'output_text' || type === 'text') {
      if (typeof part.text !== 'string') throw invalid(at, `${at}: a text part needs "text" (a string)`);
      out.push({ type: 'text', text: part.text });
    } else if (type === 'input_image') {
      if (role !== 'user') throw invalid(at, `${at}: images are accepted in user messages only`);
      const url = part.image_url;
      if (typeof url !== 'string' || !/^(data:image\/[\w.+-]+;base64,|https?:\/\/)/i.test(url)) {
        throw invalid(at, `${at}: input_image needs image_url, a data:image/…;base64 URL or an http(s) URL (file_id needs OpenAI's Files API, which Jarvis does not serve)`);
      }
      const detail = part.detail;
      out.push({ type: 'image', url, ...(typeof detail === 'string' ? { detail } : {}) });
      images++;
    } else if (type === 'refusal' && role === 'assistant') {
      // An earlier refusal, echoed back: nothing to pass on.
    } else {
      throw invalid(at, `${at}: content part type "${type.slice(0, 64)}" is not supported; send input_text, input_image or output_text parts`);
    }
  });
  if (images > 0) return out;
  return out.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

function functionCall(item: ResponsesInputItem, where: string): ToolCall {
  const { call_id: id, name, arguments: args } = item;
  if (typeof id !== 'string' || id === '') throw invalid(`${where}.call_id`, `${where}: a function_call needs its call_id`);
  if (typeof name !== 'string' || name === '') throw invalid(`${where}.name`, `${where}: a function_call needs the name of its function`);
  return { id, name, arguments: typeof args === 'string' ? args : '{}' };
}

/** A function's result: a string, or text parts (joined). */
function toolOutput(output: unknown, where: string): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) {
    let text = '';
    for (const part of output as Array<{ type?: unknown; text?: unknown }>) {
      if (part?.type !== 'input_text' || typeof part.text !== 'string') throw invalid(`${where}.output`, `${where}: a function_call_output's parts must be input_text (upstreams take a tool's result as text)`);
      text += part.text;
    }
    return text;
  }
  throw invalid(`${where}.output`, `${where}: a function_call_output needs "output" (a string)`);
}

export function invalid(param: string, message: string): HttpError {
  return new HttpError('invalid_request', message, { param });
}
