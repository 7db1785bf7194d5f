// The Conversations API calls behind search, export and import (docs/conversations.md).
// The chat's own calls (prompts, streams, the list, settings) are in
// src/client/conversationsApi.ts.

import { type Api, readApiError } from '../../../../src/client/api.js';
import type { ListedConversationJson } from '../../../../src/shared/conversations.js';
import { type ExportedConversation, importBody } from './transfer.js';

/** Where a search matched (`GET /v1/conversations?q=`): plain text, and the match's [start, end) in it. */
export type SearchMatch = NonNullable<ListedConversationJson['match']>;

/** What the library and search show of a conversation. */
export type ConversationSummary = Pick<ListedConversationJson, 'id' | 'title' | 'updated_at' | 'match'>;

/** Every page of `GET /v1/conversations` (with `?q=`: those whose title or text contains it), newest first. */
export async function listAll(api: Api, query = '', signal?: AbortSignal, maxPages = 50): Promise<ConversationSummary[]> {
  const out: ConversationSummary[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < maxPages; page++) {
    const params = new URLSearchParams({ limit: '200' });
    if (query) params.set('q', query);
    if (cursor) params.set('cursor', cursor);
    const body: { data: ConversationSummary[]; next_cursor: string | null } = await call(api, `/v1/conversations?${params}`, { signal });
    out.push(...body.data);
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return out;
}

export function searchConversations(api: Api, query: string, signal?: AbortSignal): Promise<ConversationSummary[]> {
  return listAll(api, query, signal, 1);
}

/** One conversation with every message of every branch and its current one, as export writes it (Markdown takes the current branch). */
export function readConversation(api: Api, id: string, signal?: AbortSignal): Promise<ExportedConversation & { id: string }> {
  return call(api, `/v1/conversations/${encodeURIComponent(id)}/tree`, { signal });
}

/** Creates a conversation with the messages of an exported one; the server gives it a new id. */
export function importConversation(api: Api, conversation: ExportedConversation): Promise<{ id: string; title: string }> {
  return call(api, '/v1/conversations', { method: 'POST', json: importBody(conversation) });
}

async function call<T>(api: Api, url: string, options: { method?: string; json?: unknown; signal?: AbortSignal | undefined }): Promise<T> {
  const response = await api.fetch(`${api.base}${url}`, {
    method: options.method ?? 'GET',
    ...(options.json !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(options.json) } : {}),
    signal: options.signal ?? null,
  });
  if (!response.ok) throw new Error((await readApiError(response)).message);
  return (await response.json()) as T;
}
