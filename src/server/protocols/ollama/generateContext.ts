import { messageText, type BackendMessage } from '../../../backends/types.js';
import type { ChatMessage } from '../../../shared/events.js';
import { httpError } from '../../errors.js';

// `/api/generate` returns `context`, "an encoding of the conversation", that a
// client sends back to continue it. Ollama's are token ids; Jarvis, in front of
// upstreams it talks to in chat messages, cannot make those. Its context is the
// conversation itself: the messages as JSON, one code point per number, after a
// two-number mark. Opaque to clients as Ollama's is, and it round-trips through
// any client that keeps the array. A context from a real Ollama is refused by name.

const MARK = [0x4a, 0x56]; // "JV"
/** Code points per String.fromCodePoint call: far below any engine's argument limit. */
const SLICE = 8192;

/** The conversation's text (images are not carried over). */
export function encodeContext(messages: BackendMessage[]): number[] {
  const out = [...MARK];
  for (const ch of JSON.stringify(messages.map((m) => ({ role: m.role, content: messageText(m) })))) out.push(ch.codePointAt(0) as number);
  return out;
}

export function decodeContext(context: number[]): ChatMessage[] {
  const refuse = () => httpError('invalid_context');
  if (context.length < MARK.length || context[0] !== MARK[0] || context[1] !== MARK[1]) throw refuse();
  let json = '';
  try {
    for (let i = MARK.length; i < context.length; i += SLICE) json += String.fromCodePoint(...context.slice(i, i + SLICE));
  } catch {
    throw refuse();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw refuse();
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.every(
      (m: unknown) =>
        typeof m === 'object' &&
        m !== null &&
        ['system', 'user', 'assistant'].includes((m as ChatMessage).role) &&
        typeof (m as ChatMessage).content === 'string',
    );
  if (!valid) throw refuse();
  return parsed as ChatMessage[];
}
