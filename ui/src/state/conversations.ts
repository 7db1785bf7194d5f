// The conversation list as a pure reducer: every change the UI makes goes through here,
// which keeps the streaming code in ChatContext about streams only.

import type { AssistantMessage, Conversation, Message } from './types.js';

export interface ChatState {
  conversations: Record<string, Conversation>;
  selectedId: string | null;
}

export type ChatAction =
  | { type: 'create'; conversation: Conversation }
  | { type: 'select'; id: string | null }
  | { type: 'rename'; id: string; title: string }
  | { type: 'delete'; id: string }
  | { type: 'append'; id: string; messages: Message[] }
  | { type: 'patch-answer'; id: string; messageId: string; patch: Partial<AssistantMessage> }
  | { type: 'append-text'; id: string; messageId: string; text: string }
  | { type: 'append-reasoning'; id: string; messageId: string; text: string }
  /** Another tab changed (or deleted, when null) a conversation in localStorage. */
  | { type: 'external'; id: string; conversation: Conversation | null };

const TITLE_LENGTH = 48;

export function titleFrom(prompt: string): string {
  const line = prompt.trim().split('\n')[0]?.trim() ?? '';
  return line.length > TITLE_LENGTH ? `${line.slice(0, TITLE_LENGTH - 1)}…` : line || 'New chat';
}

export function newConversation(id: string, now = Date.now()): Conversation {
  return { id, title: 'New chat', renamed: false, createdAt: now, updatedAt: now, messages: [] };
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'create':
      return { conversations: { ...state.conversations, [action.conversation.id]: action.conversation }, selectedId: action.conversation.id };
    case 'select':
      return { ...state, selectedId: action.id };
    case 'rename':
      return update(state, action.id, (c) => ({ ...c, title: action.title.trim() || c.title, renamed: true }));
    case 'delete': {
      const { [action.id]: _gone, ...rest } = state.conversations;
      return { conversations: rest, selectedId: state.selectedId === action.id ? newest(rest) : state.selectedId };
    }
    case 'append':
      return update(state, action.id, (c) => {
        const firstPrompt = c.messages.length === 0 ? action.messages.find((m) => m.role === 'user') : undefined;
        return {
          ...c,
          title: firstPrompt && !c.renamed ? titleFrom(firstPrompt.content) : c.title,
          updatedAt: Date.now(),
          messages: [...c.messages, ...action.messages],
        };
      });
    case 'patch-answer':
      return updateAnswer(state, action.id, action.messageId, (m) => ({ ...m, ...action.patch }));
    case 'append-text':
      return updateAnswer(state, action.id, action.messageId, (m) => ({
        ...m,
        content: m.content + action.text,
        state: m.state === 'thinking' ? 'streaming' : m.state,
      }));
    case 'append-reasoning':
      return updateAnswer(state, action.id, action.messageId, (m) => ({ ...m, reasoning: (m.reasoning ?? '') + action.text }));
    case 'external': {
      if (action.conversation) return { ...state, conversations: { ...state.conversations, [action.id]: action.conversation } };
      if (!state.conversations[action.id]) return state;
      const { [action.id]: _gone, ...rest } = state.conversations;
      return { conversations: rest, selectedId: state.selectedId === action.id ? newest(rest) : state.selectedId };
    }
  }
}

/** Conversations, most recently used first. */
export function ordered(conversations: Record<string, Conversation>): Conversation[] {
  return Object.values(conversations).sort((a, b) => b.updatedAt - a.updatedAt || b.createdAt - a.createdAt);
}

function newest(conversations: Record<string, Conversation>): string | null {
  return ordered(conversations)[0]?.id ?? null;
}

function update(state: ChatState, id: string, fn: (c: Conversation) => Conversation): ChatState {
  const conversation = state.conversations[id];
  if (!conversation) return state;
  return { ...state, conversations: { ...state.conversations, [id]: fn(conversation) } };
}

function updateAnswer(state: ChatState, id: string, messageId: string, fn: (m: AssistantMessage) => AssistantMessage): ChatState {
  return update(state, id, (c) => ({
    ...c,
    messages: c.messages.map((m) => (m.id === messageId && m.role === 'assistant' ? fn(m) : m)),
  }));
}
