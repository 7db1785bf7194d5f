// One answer's events as typed callbacks (docs/api.md, "Which format answers"). It decides
// nothing about which stream is current: every callback gets the stream id its event
// carries, and the chat session (chat/chatSession.ts) drops events of streams that are no
// longer active.

import type { CancelledEvent, DoneEvent, JarvisEvent, ReasoningEvent, StatusEvent, TokenEvent } from '../shared/events.js';

/** A failure as the UI shows it: a server `error` event, or one we detected ourselves. */
export interface StreamFailure {
  code: string;
  message: string;
  /** True for the server's own `error` event; false for HTTP, network or protocol failures. */
  fromServer: boolean;
}

export interface StreamCallbacks {
  onStatus?(event: StatusEvent, streamId: string): void;
  onDelta?(text: string, streamId: string, event: TokenEvent): void;
  /** The model's reasoning ("thinking"), before or between answer tokens. */
  onReasoning?(text: string, streamId: string, event: ReasoningEvent): void;
  onDone?(event: DoneEvent, streamId: string): void;
  onCancelled?(event: CancelledEvent, streamId: string): void;
  /** streamId is null when the failure came before the first event (HTTP error, network down). */
  onError?(failure: StreamFailure, streamId: string | null): void;
}

export type StreamOutcome = 'done' | 'cancelled' | 'error' | 'aborted';

/** `localStorage['jarvis.debug'] = '1'` in a browser's console turns on per-event debug lines (docs/ui.md). */
export const debugEnabled = (): boolean => {
  try {
    const storage = (globalThis as { localStorage?: { getItem(key: string): string | null } }).localStorage;
    return storage?.getItem('jarvis.debug') === '1';
  } catch {
    return false;
  }
};

/** Calls the callback for `event`; the outcome when it is the terminal one. */
export function dispatchEvent(event: JarvisEvent, callbacks: StreamCallbacks): StreamOutcome | undefined {
  const id = event.stream_id;
  switch (event.type) {
    case 'status':
      callbacks.onStatus?.(event, id);
      return undefined;
    case 'token':
      if (debugEnabled()) console.debug('[stream] Processing token with stream_id:', id);
      callbacks.onDelta?.(event.text, id, event);
      return undefined;
    case 'reasoning':
      callbacks.onReasoning?.(event.text, id, event);
      return undefined;
    case 'tool_call':
      // The web UI offers no tools, so no model calls one; other clients read these.
      return undefined;
    case 'done':
      callbacks.onDone?.(event, id);
      return 'done';
    case 'cancelled':
      callbacks.onCancelled?.(event, id);
      return 'cancelled';
    case 'error':
      callbacks.onError?.({ code: event.code, message: event.message, fromServer: true }, id);
      return 'error';
  }
}
