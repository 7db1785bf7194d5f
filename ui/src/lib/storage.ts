// Conversations live in localStorage, one key per conversation, so that two tabs
// working on different conversations never overwrite each other's list.

import { SESSION_ID_PATTERN } from '../../../src/shared/events.js';
import { LIVE_STATES, type Conversation } from '../state/types.js';

export const CONVERSATION_PREFIX = 'jarvis.conversation.';
const SELECTED_KEY = 'jarvis.selectedConversation';

export function conversationKey(id: string): string {
  return CONVERSATION_PREFIX + id;
}

/** Every stored conversation. Answers left live by a closed tab can never finish: they load as stopped. */
export function loadConversations(storage: Storage): Record<string, Conversation> {
  const out: Record<string, Conversation> = {};
  for (let i = 0; i < storage.length; i++) {
    const key = storage.key(i);
    if (!key?.startsWith(CONVERSATION_PREFIX)) continue;
    const conversation = parseConversation(storage.getItem(key));
    if (conversation) out[conversation.id] = settle(conversation);
  }
  return out;
}

export function parseConversation(raw: string | null): Conversation | undefined {
  if (!raw) return undefined;
  try {
    const c = JSON.parse(raw) as Conversation;
    if (typeof c.id !== 'string' || !SESSION_ID_PATTERN.test(c.id) || !Array.isArray(c.messages)) return undefined;
    return { ...c, title: String(c.title ?? 'New chat'), renamed: c.renamed === true };
  } catch {
    return undefined;
  }
}

function settle(c: Conversation): Conversation {
  if (!c.messages.some((m) => m.role === 'assistant' && LIVE_STATES.has(m.state))) return c;
  return {
    ...c,
    messages: c.messages.map((m) => (m.role === 'assistant' && LIVE_STATES.has(m.state) ? { ...m, state: 'stopped', reason: 'page_closed' } : m)),
  };
}

/** Writes only when the stored text differs (an unchanged write would echo to other tabs). */
export function saveConversation(storage: Storage, conversation: Conversation): void {
  const key = conversationKey(conversation.id);
  const value = JSON.stringify(conversation);
  try {
    if (storage.getItem(key) !== value) storage.setItem(key, value);
  } catch (err) {
    // Quota exceeded or storage disabled: the chat still works, it just is not kept.
    console.warn('[chat] Could not save the conversation', err);
  }
}

export function removeConversation(storage: Storage, id: string): void {
  storage.removeItem(conversationKey(id));
}

/** The selection is per tab (sessionStorage survives a reload), with the last one used as the default for new tabs. */
export function loadSelected(local: Storage, session: Storage | undefined): string | null {
  return session?.getItem(SELECTED_KEY) ?? local.getItem(SELECTED_KEY);
}

export function saveSelected(local: Storage, session: Storage | undefined, id: string | null): void {
  for (const s of [local, session]) {
    if (!s) continue;
    if (id) s.setItem(SELECTED_KEY, id);
    else s.removeItem(SELECTED_KEY);
  }
}
