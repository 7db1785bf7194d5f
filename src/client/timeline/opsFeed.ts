// Follows the ops feed (`GET /v1/admin/ops/events`, src/shared/lifecycle.ts; docs/observability.md
// "The live timeline"). Read with fetch rather than EventSource: the UI sends its API key as a header,
// which EventSource cannot. Reconnects with backoff, sending the last id seen (`Last-Event-ID`) so the
// server replays only what was missed — or a `reset` and its whole window when that is gone.

import { createParser } from 'eventsource-parser';
import type { LifecycleRecord } from '../../shared/lifecycle.js';
import { OPS_FEED_PATH } from '../../shared/lifecycle.js';
import type { Api } from '../api.js';
import { type Backoff, DEFAULT_BACKOFF, reconnectDelay } from '../resume.js';
import { abortableSleep } from '../timing.js';

export type OpsFeedState = 'connecting' | 'live' | 'reconnecting' | 'forbidden' | 'missing';

export interface OpsFeedHandlers {
  onRecord(record: LifecycleRecord): void;
  /** Drop everything: a full replay follows. */
  onReset(): void;
  onState(state: OpsFeedState, detail?: string): void;
}

/** Runs until `signal` aborts, or the server refuses (401/403) or has no feed (404). */
export async function followOpsFeed(api: Api, signal: AbortSignal, handlers: OpsFeedHandlers, backoff: Backoff = DEFAULT_BACKOFF): Promise<void> {
  let lastId: string | undefined;
  let failures = 0;
  handlers.onState('connecting');
  while (!signal.aborted) {
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (lastId !== undefined) headers['last-event-id'] = lastId;
      const response = await api.fetch(`${api.base}${OPS_FEED_PATH}`, { headers, signal });
      if (response.status === 401 || response.status === 403) {
        await response.body?.cancel();
        return handlers.onState('forbidden', `HTTP ${response.status}`);
      }
      if (response.status === 404) {
        await response.body?.cancel();
        return handlers.onState('missing');
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      failures = 0;
      handlers.onState('live');
      const parser = createParser({
        onEvent(message) {
          if (message.id) lastId = message.id;
          if (message.event === 'reset') handlers.onReset();
          else if (message.event === 'record' || message.event === undefined) {
            const record = parseRecord(message.data);
            if (record) handlers.onRecord(record);
          }
        },
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parser.feed(value);
        }
      } finally {
        reader.cancel().catch(() => {});
      }
      throw new Error('the feed ended');
    } catch (err) {
      if (signal.aborted) return;
      handlers.onState('reconnecting', err instanceof Error ? err.message : String(err));
    }
    await abortableSleep(reconnectDelay(failures++, backoff), signal);
  }
}

function parseRecord(data: string): LifecycleRecord | undefined {
  try {
    const value = JSON.parse(data) as LifecycleRecord;
    if (typeof value?.t !== 'number' || typeof value.event !== 'string' || typeof value.fields !== 'object' || value.fields === null) return undefined;
    return { ...value, instance: typeof value.instance === 'string' ? value.instance : '' };
  } catch {
    return undefined;
  }
}
