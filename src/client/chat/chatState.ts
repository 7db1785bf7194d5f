// The conversation list as a pure reducer: every change the chat makes goes through here
// (ChatSession.dispatch), which keeps the streaming code about streams only (docs/ui.md).

import type { ConversationJson, ConversationWithMessagesJson, MessageJson } from '../../shared/conversations.js';
import type { AssistantMessage, Conversation, Message } from './types.js';

export interface ChatState {
  conversations: Record<string, Conversation>;
  /** null: a new chat, created on the server by its first prompt. */
  selectedId: string | null;
  /** False until the list was first read from the server. */
  listed: boolean;
}

export type ChatAction =
  /** The list as the server has it: titles and times; messages already loaded are kept. */
  | { type: 'listed'; conversations: ConversationJson[] }
  /** One conversation's title and times changed (or it is new). */
  | { type: 'upsert'; conversation: ConversationJson }
  /** One conversation with its messages, as the server has it; `keep` are messages whose local copy wins (being streamed here). */
  | { type: 'loaded'; conversation: ConversationWithMessagesJson; keep?: ReadonlySet<string> }
  /** A conversation made in this tab (a draft) got its server id. */
  | { type: 'rekey'; from: string; to: string }
  /** Drops a message and every later one (a prompt that never reached the server, sent again). */
  | { type: 'truncate'; id: string; fromMessageId: string }
  /**
   * Edit and resend: a new version of the user message (`newId`, with `content`) takes its place in the
   * branch shown, `answer` follows it; the old one stays a sibling (docs/conversations.md "Branches").
   */
  | { type: 'edit-user'; id: string; messageId: string; newId: string; content: string; answer: AssistantMessage }
  /** Regenerate, Retry: `answer` is a new version of the answer `messageId`, shown in its place. */
  | { type: 'new-answer'; id: string; messageId: string; answer: AssistantMessage }
  /** The tree as the server has it (read after a new version started): each shown message's parent and versions. */
  | { type: 'versions'; conversation: ConversationWithMessagesJson }
  | { type: 'create'; conversation: Conversation }
  | { type: 'select'; id: string | null }
  | { type: 'rename'; id: string; title: string }
  | { type: 'delete'; id: string }
  | { type: 'append'; id: string; messages: Message[] }
  /** A message got its server id. */
  | { type: 'rekey-message'; id: string; from: string; to: string }
  | { type: 'patch-answer'; id: string; messageId: string; patch: Partial<AssistantMessage> }
  | { type: 'append-text'; id: string; messageId: string; text: string }
  | { type: 'append-reasoning'; id: string; messageId: string; text: string };

const TITLE_LENGTH = 80;

export function titleFrom(prompt: string): string {
  const line = prompt.trim().replace(/\s+/g, ' ');
  return line.length > TITLE_LENGTH ? `${line.slice(0, TITLE_LENGTH - 1)}…` : line || 'New chat';
}

export const initialChatState = (selectedId: string | null): ChatState => ({ conversations: {}, selectedId, listed: false });

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'listed': {
      const conversations: Record<string, Conversation> = {};
      for (const c of action.conversations) conversations[c.id] = fromSummary(c, state.conversations[c.id]);
      // A conversation this tab just made may not be in a list read a moment before.
      for (const [id, c] of Object.entries(state.conversations)) if (!conversations[id] && c.messages.length > 0 && Date.now() - c.updatedAt < 10_000) conversations[id] = c;
      const selectedId = state.selectedId && conversations[state.selectedId] ? state.selectedId : null;
      return { conversations, selectedId, listed: true };
    }
    case 'upsert':
      return { ...state, conversations: { ...state.conversations, [action.conversation.id]: fromSummary(action.conversation, state.conversations[action.conversation.id]) } };
    case 'loaded': {
      const server = action.conversation;
      const local = state.conversations[server.id];
      const keep = action.keep ?? new Set<string>();
      const messages = server.messages.map((m) => {
        const mine = keep.has(m.id) ? local?.messages.find((l) => l.id === m.id) : undefined;
        return mine ?? fromMessageJson(m);
      });
      return { ...state, conversations: { ...state.conversations, [server.id]: { ...fromSummary(server, local), messages, loaded: true } } };
    }
    case 'rekey': {
      const draft = state.conversations[action.from];
      if (!draft) return state;
      const { [action.from]: _draft, ...rest } = state.conversations;
      const merged = rest[action.to] ? { ...rest[action.to]!, messages: draft.messages, loaded: true } : { ...draft, id: action.to };
      return { ...state, conversations: { ...rest, [action.to]: merged }, selectedId: state.selectedId === action.from ? action.to : state.selectedId };
    }
    case 'truncate':
      return update(state, action.id, (c) => {
        const at = c.messages.findIndex((m) => m.id === action.fromMessageId);
        return at < 0 ? c : { ...c, messages: c.messages.slice(0, at) };
      });
    case 'create':
      return { ...state, conversations: { ...state.conversations, [action.conversation.id]: action.conversation }, selectedId: action.conversation.id };
    case 'select':
      return { ...state, selectedId: action.id };
    case 'rename':
      return update(state, action.id, (c) => ({ ...c, title: action.title.trim() || c.title }));
    case 'delete': {
      if (!state.conversations[action.id]) return state;
      const { [action.id]: _gone, ...rest } = state.conversations;
      return { ...state, conversations: rest, selectedId: state.selectedId === action.id ? null : state.selectedId };
    }
    case 'append':
      return update(state, action.id, (c) => {
        const firstPrompt = c.messages.length === 0 ? action.messages.find((m) => m.role === 'user') : undefined;
        return {
          ...c,
          title: firstPrompt && (c.title === '' || c.title === 'New chat') ? titleFrom(firstPrompt.content) : c.title,
          updatedAt: Date.now(),
          messages: [...c.messages, ...action.messages],
        };
      });
    case 'edit-user':
      return update(state, action.id, (c) => {
        const at = c.messages.findIndex((m) => m.id === action.messageId && m.role === 'user');
        const old = c.messages[at];
        if (!old || old.role !== 'user') return c;
        // Optimistic: the server appends the new version to the old one's siblings, and gives it one child.
        const user = { ...old, id: action.newId, content: action.content, createdAt: Date.now(), siblings: [...versionsOf(old), action.newId] };
        const answer = { ...action.answer, parentId: action.newId, siblings: [action.answer.id] };
        return { ...c, updatedAt: Date.now(), messages: [...c.messages.slice(0, at), user, answer] };
      });
    case 'new-answer':
      return update(state, action.id, (c) => {
        const at = c.messages.findIndex((m) => m.id === action.messageId && m.role === 'assistant');
        const old = c.messages[at];
        if (!old) return c;
        const answer = { ...action.answer, parentId: old.parentId ?? c.messages[at - 1]?.id ?? null, siblings: [...versionsOf(old), action.answer.id] };
        return { ...c, updatedAt: Date.now(), messages: [...c.messages.slice(0, at), answer] };
      });
    case 'versions': {
      const server = new Map(action.conversation.messages.map((m) => [m.id, m]));
      return update(state, action.conversation.id, (c) => ({
        ...c,
        messages: c.messages.map((m) => {
          const s = server.get(m.id);
          return s ? { ...m, parentId: s.parent_id ?? null, ...(s.siblings ? { siblings: s.siblings } : {}) } : m;
        }),
      }));
    }
    case 'rekey-message': {
      const rename = (id: string) => (id === action.from ? action.to : id);
      const named = (m: Message) => m.id === action.from || m.parentId === action.from || !!m.siblings?.includes(action.from);
      return update(state, action.id, (c) => ({
        ...c,
        messages: c.messages.map((m) =>
          named(m) ? { ...m, id: rename(m.id), ...(m.parentId ? { parentId: rename(m.parentId) } : {}), ...(m.siblings ? { siblings: m.siblings.map(rename) } : {}) } : m,
        ),
      }));
    }
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
  }
}

/** A conversation with only a title and times: messages come when it is opened. */
export function newLocalConversation(id: string, title = 'New chat', now = Date.now()): Conversation {
  return { id, title, createdAt: now, updatedAt: now, messages: [], loaded: true };
}

function fromSummary(c: ConversationJson, local: Conversation | undefined): Conversation {
  return {
    id: c.id,
    title: c.title || local?.title || 'New chat',
    createdAt: Date.parse(c.created_at),
    updatedAt: Math.max(Date.parse(c.updated_at), local?.updatedAt ?? 0),
    messages: local?.messages ?? [],
    loaded: local?.loaded ?? false,
    system: c.system ?? null,
    model: c.model ?? null,
    temperature: c.temperature ?? null,
    max_tokens: c.max_tokens ?? null,
  };
}

/** A stored message as the UI shows it: shutdown and interrupted answers are stopped ones, with that reason. */
export function fromMessageJson(m: MessageJson): Message {
  const createdAt = Date.parse(m.created_at);
  const place = { ...(m.parent_id !== undefined ? { parentId: m.parent_id } : {}), ...(m.siblings ? { siblings: m.siblings } : {}) };
  if (m.role === 'user') return { id: m.id, role: 'user', content: m.content, createdAt, ...place, ...(m.attachments?.length ? { attachments: m.attachments } : {}) };
  const answer: AssistantMessage = { id: m.id, role: 'assistant', content: m.content, state: 'done', createdAt, ...place };
  if (m.reasoning) answer.reasoning = m.reasoning;
  if (m.stream_id) answer.streamId = m.stream_id;
  if (m.model) answer.model = m.model;
  if (m.usage) answer.usage = m.usage;
  if (m.timings) answer.timings = m.timings;
  switch (m.state) {
    case 'streaming':
      answer.state = m.content ? 'streaming' : 'thinking';
      break;
    case 'shutdown':
    case 'interrupted':
      answer.state = 'stopped';
      answer.reason = m.state;
      break;
    case 'error':
      answer.state = 'error';
      answer.error = m.error ?? { code: 'error', message: 'The answer failed.' };
      break;
    case 'stopped':
    case 'superseded':
    case 'done':
      answer.state = m.state;
      break;
  }
  return answer;
}

/** A message's versions, oldest first (itself alone when it has none). */
export function versionsOf(m: Message): string[] {
  return m.siblings && m.siblings.length > 0 ? m.siblings : [m.id];
}

/** Conversations, most recently used first. */
export function ordered(conversations: Record<string, Conversation>): Conversation[] {
  return Object.values(conversations).sort((a, b) => b.updatedAt - a.updatedAt || b.createdAt - a.createdAt);
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
