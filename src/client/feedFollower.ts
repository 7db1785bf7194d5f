// Follows the caller's conversations (`GET /v1/conversations/events`, docs/conversations.md):
// other tabs' and browsers' new conversations, renames, deletions and prompts. Reconnects
// with backoff; after a reconnection the caller reads its list again, since what happened
// meanwhile was not sent.

import type { FeedEvent, FeedLine } from '../shared/conversations.js';
import type { Api } from './api.js';
import { conversationFeedRequest } from './conversationsApi.js';
import { readEvents } from './readEvents.js';
import { type Backoff, reconnectDelay } from './resume.js';
import { abortableSleep } from './timing.js';

export interface FeedHandlers {
  onEvent(event: FeedEvent): void;
  /** The feed is back after a drop: read again what it may have missed. */
  onResync(): Promise<void>;
}

/** Runs until `signal` aborts, or the server asks for a sign-in (401: signing in starts everything again). */
export async function followFeed(api: Api, signal: AbortSignal, backoff: Backoff, handlers: FeedHandlers): Promise<void> {
  let failures = 0;
  let dropped = false;
  while (!signal.aborted) {
    try {
      const response = await conversationFeedRequest(api, signal);
      if (response.status === 401) return;
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      for await (const value of readEvents(response.body, signal)) {
        const line = value as unknown as FeedLine;
        if (typeof line.type !== 'string') continue;
        if (line.type === 'ready') {
          failures = 0;
          if (dropped) await handlers.onResync().catch((err: unknown) => console.warn('[chat] Could not list the conversations', err));
        } else if (line.type !== 'ping') handlers.onEvent(line);
      }
    } catch (err) {
      if (signal.aborted) return;
      if (failures === 0) console.warn('[chat] Conversation feed lost; reconnecting', err);
    }
    dropped = true;
    await abortableSleep(reconnectDelay(failures++, backoff), signal);
  }
}
