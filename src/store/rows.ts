import { randomUUID } from 'node:crypto';
import type { Usage } from '../shared/events.js';
import type { ConversationsTable, MessagesTable } from './schema.js';
import { StoreError, type AnswerState, type Conversation, type GenerationParams, type MessageRole, type StoredMessage } from './types.js';

// Rows as stored and as the store's callers see them (one place for both directions).

function newMessageId(): string {
  return `msg_${randomUUID().replace(/-/g, '')}`;
}

export function messageRow(conversationId: string, position: number, parentId: string | null, role: MessageRole, content: string, now: number): MessagesTable {
  return {
    id: newMessageId(),
    conversation_id: conversationId,
    position,
    parent_id: parentId,
    role,
    content,
    attachments: null,
    state: null,
    stream_id: null,
    seq: null,
    cursor: null,
    reasoning: null,
    tool_calls: null,
    model: null,
    usage: null,
    timings: null,
    error: null,
    fence: null,
    instance: null,
    created_at: now,
    updated_at: now,
  };
}

export function titleFrom(content: string): string {
  const line = content.trim().replace(/\s+/g, ' ');
  return line.length <= 80 ? line : `${line.slice(0, 79)}…`;
}

export function mergeParams(current: GenerationParams, patch: GenerationParams): GenerationParams {
  // A null in the patch removes the parameter (back to the model's default).
  const next: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete next[k];
    else if (v !== undefined) next[k] = v;
  }
  return next as GenerationParams;
}

export function parseJson<T>(text: string | null): T | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

export function parseCursor(cursor: string): { updatedAt: number; id: string } | undefined {
  const dot = cursor.indexOf('.');
  const updatedAt = Number(cursor.slice(0, dot));
  if (dot <= 0 || !Number.isSafeInteger(updatedAt)) throw new StoreError('invalid', 'invalid cursor');
  return { updatedAt, id: cursor.slice(dot + 1) };
}

export function toConversation(row: ConversationsTable): Conversation {
  return {
    id: row.id,
    owner: row.owner,
    title: row.title,
    system: row.system,
    model: row.model,
    params: parseJson(row.params) ?? {},
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function toMessage(row: MessagesTable): StoredMessage {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    position: Number(row.position),
    parentId: row.parent_id,
    role: row.role as MessageRole,
    content: row.content,
    attachments: parseJson(row.attachments),
    state: row.state as AnswerState | null,
    streamId: row.stream_id,
    seq: row.seq === null ? null : Number(row.seq),
    cursor: row.cursor,
    reasoning: row.reasoning,
    toolCalls: parseJson(row.tool_calls),
    model: row.model,
    usage: parseJson<Usage>(row.usage),
    timings: parseJson(row.timings),
    error: parseJson(row.error),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
