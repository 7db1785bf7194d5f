import type { ConversationJson, ConversationWithMessagesJson, ListedConversationJson, MessageJson } from '../../shared/conversations.js';
import type { Conversation, ConversationWithMessages, ListedConversation, StoredMessage } from '../../store/types.js';

// The Conversations API's JSON shapes (snake_case, ISO times; typed once in
// src/shared/conversations.ts, docs/conversations.md), kept apart from the store's
// types so that neither leaks into the other.

export function conversationJson(c: Conversation): ConversationJson {
  return {
    id: c.id,
    object: 'conversation' as const,
    title: c.title,
    system: c.system,
    model: c.model,
    temperature: c.params.temperature ?? null,
    max_tokens: c.params.max_tokens ?? null,
    created_at: new Date(c.createdAt).toISOString(),
    updated_at: new Date(c.updatedAt).toISOString(),
  };
}

/** A conversation in `GET /v1/conversations`; with `?q=`, where it matched (a plain-text snippet and the match's offsets in it). */
export function listedConversationJson(c: ListedConversation): ListedConversationJson {
  const m = c.match;
  return {
    ...conversationJson(c),
    ...(m ? { match: { message_id: m.messageId, role: m.role, snippet: m.snippet, highlight: m.highlight } } : {}),
  };
}

export function conversationWithMessagesJson(c: ConversationWithMessages): ConversationWithMessagesJson {
  const live = c.messages.findLast((m) => m.state === 'streaming');
  return {
    ...conversationJson(c),
    /** The answer streaming now, if any: reattach at `GET /v1/streams/{stream_id}/events?after={seq}`. */
    streaming: live ? { message_id: live.id, stream_id: live.streamId, seq: live.seq, cursor: live.cursor } : null,
    current_message_id: c.currentId,
    messages: c.messages.map(messageJson),
  };
}

export function messageJson(m: StoredMessage): MessageJson {
  const base = {
    id: m.id,
    role: m.role,
    content: m.content,
    created_at: new Date(m.createdAt).toISOString(),
    parent_id: m.parentId,
    // A read of the whole tree leaves them out: there every message's parent says it.
    ...(m.siblingIds ? { siblings: m.siblingIds } : {}),
  };
  if (m.role !== 'assistant') return { ...base, attachments: m.attachments ?? [] };
  return {
    ...base,
    state: m.state,
    stream_id: m.streamId,
    /** The last token seq in `content`. */
    seq: m.seq,
    /** Where the stored answer ends in its stream: reattach with `after` = this. */
    cursor: m.cursor,
    reasoning: m.reasoning,
    tool_calls: m.toolCalls,
    model: m.model,
    usage: m.usage,
    timings: m.timings,
    error: m.error,
    updated_at: new Date(m.updatedAt).toISOString(),
  };
}
