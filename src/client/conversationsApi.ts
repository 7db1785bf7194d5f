// The Conversations API as the client calls it (docs/conversations.md): typed JSON
// calls, and the streaming requests (a prompt, a reattach, the feed) that
// answerReader.ts and feedFollower.ts read.

import type { AttachmentInputJson, ConversationImportJson, ConversationJson, ConversationWithMessagesJson } from '../shared/conversations.js';
import { engineVerdictOf, type StopAnswer } from '../shared/stop.js';
import { type Api, callJson } from './api.js';

export { ApiCallError } from './api.js';

const path = (id: string) => `/v1/conversations/${encodeURIComponent(id)}`;

export async function listConversations(api: Api, signal?: AbortSignal): Promise<ConversationJson[]> {
  const out: ConversationJson[] = [];
  let cursor: string | null = null;
  // Every page: the list is the sidebar, and a user with hundreds of chats expects them all.
  for (let page = 0; page < 50; page++) {
    const query: string = cursor ? `?limit=200&cursor=${encodeURIComponent(cursor)}` : '?limit=200';
    const body = await callJson<{ data: ConversationJson[]; next_cursor: string | null }>(api, `/v1/conversations${query}`, { signal });
    out.push(...body.data);
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return out;
}

export function getConversation(api: Api, id: string, signal?: AbortSignal): Promise<ConversationWithMessagesJson> {
  return callJson(api, path(id), { signal });
}

/**
 * Makes the branch through `messageId` the current one (down to its newest leaf) and returns the
 * conversation as GET does; 409 `conflict` while an answer streams (docs/conversations.md "Branches").
 */
export function switchBranch(api: Api, id: string, messageId: string, signal?: AbortSignal): Promise<ConversationWithMessagesJson> {
  return callJson(api, `${path(id)}/branch`, { method: 'POST', json: { message_id: messageId }, signal });
}

export function createConversation(api: Api, body: Partial<ConversationImportJson> & { title?: string; model?: string | null } = {}): Promise<ConversationJson> {
  return callJson(api, '/v1/conversations', { method: 'POST', json: body });
}

export function updateConversation(api: Api, id: string, patch: { title?: string; system?: string | null; model?: string | null }): Promise<ConversationJson> {
  return callJson(api, path(id), { method: 'PATCH', json: patch });
}

/** A conversation's settings, kept on the server (null: the server's default). */
export interface SettingsPatch {
  system?: string | null;
  model?: string | null;
  temperature?: number | null;
  max_tokens?: number | null;
}

export function saveSettings(api: Api, id: string, patch: SettingsPatch): Promise<ConversationJson> {
  return callJson(api, path(id), { method: 'PATCH', json: patch });
}

export async function deleteConversation(api: Api, id: string): Promise<void> {
  await callJson(api, path(id), { method: 'DELETE' });
}

/** Stops the conversation's answer; `engine` says whether the model stopped (docs/api.md "Stop"). */
export async function stopConversation(api: Api, id: string, signal?: AbortSignal): Promise<StopAnswer> {
  const body = await callJson<{ stopped?: unknown; engine?: unknown }>(api, `${path(id)}/stop`, { method: 'POST', signal });
  const engine = engineVerdictOf(body.engine);
  return { stopped: body.stopped === true, ...(engine ? { engine } : {}) };
}

/** What starts an answer: a new prompt, or answering the last prompt again (Retry, Regenerate). */
export type AnswerTurn =
  | { kind: 'send'; content: string; attachments?: AttachmentInputJson[] }
  | { kind: 'regenerate' }
  /** `attachments` absent: the edited message's files are kept. */
  | { kind: 'edit'; messageId: string; content: string; attachments?: AttachmentInputJson[] };

/** Starts an answer; the response is its NDJSON stream (headers: X-Stream-Id, X-Message-Id, X-User-Message-Id). */
export function startAnswerRequest(api: Api, conversationId: string, turn: AnswerTurn, model: string | undefined, signal: AbortSignal): Promise<Response> {
  const target =
    turn.kind === 'send'
      ? { method: 'POST', url: `${path(conversationId)}/messages`, body: { content: turn.content, ...(turn.attachments ? { attachments: turn.attachments } : {}) } }
      : turn.kind === 'regenerate'
        ? { method: 'POST', url: `${path(conversationId)}/regenerate`, body: {} }
        : { method: 'PUT', url: `${path(conversationId)}/messages/${encodeURIComponent(turn.messageId)}`, body: { content: turn.content, ...(turn.attachments ? { attachments: turn.attachments } : {}) } };
  return api.fetch(`${api.base}${target.url}`, {
    method: target.method,
    headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
    body: JSON.stringify({ ...target.body, ...(model ? { model } : {}) }),
    signal,
  });
}

/** Reattaches to a stream: its events after `after` (every event, status included, when null). */
export function followStreamRequest(api: Api, streamId: string, after: string | null, signal: AbortSignal): Promise<Response> {
  const query = after === null ? '' : `?after=${encodeURIComponent(after)}`;
  return api.fetch(`${api.base}/v1/streams/${encodeURIComponent(streamId)}/events${query}`, {
    headers: { accept: 'application/x-ndjson' },
    signal,
  });
}

/** Follows the caller's conversations (`GET /v1/conversations/events`). */
export function conversationFeedRequest(api: Api, signal: AbortSignal): Promise<Response> {
  return api.fetch(`${api.base}/v1/conversations/events`, { headers: { accept: 'application/x-ndjson' }, signal });
}
