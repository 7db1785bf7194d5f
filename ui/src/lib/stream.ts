// Reads one Jarvis NDJSON chat stream (README "Which format answers") with fetch + ReadableStream and
// turns it into typed callbacks. It decides nothing about which stream is current:
// it reports every event with the stream id the event carries, and the chat
// context (contexts/ChatContext.tsx) drops events of streams that are no longer active.

import type {
  CancelledEvent,
  ChatMessage,
  DoneEvent,
  JarvisEvent,
  ReasoningEvent,
  StatusEvent,
  TokenEvent,
} from '../../../src/shared/events.js';
import { SESSION_HEADER, STREAM_HEADER } from '../../../src/shared/events.js';
import { LineSplitter } from '../../../src/shared/ndjson.js';
import { type Api, readApiError } from './api.js';

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

export interface StreamRequest {
  sessionId: string;
  messages: ChatMessage[];
  model?: string | undefined;
  signal?: AbortSignal | undefined;
}

export type StreamOutcome = 'done' | 'cancelled' | 'error' | 'aborted';

export const debugEnabled = (): boolean => {
  try {
    return globalThis.localStorage?.getItem('jarvis.debug') === '1';
  } catch {
    return false;
  }
};

/**
 * POSTs the chat request and reads its NDJSON events until the terminal one.
 * Exactly one of onDone / onCancelled / onError is called, unless the caller aborts
 * through `signal` (then none is: the caller already knows, and says so in the UI).
 */
export async function streamChat(api: Api, request: StreamRequest, callbacks: StreamCallbacks): Promise<StreamOutcome> {
  const { signal } = request;
  let streamId: string | null = null;
  const fail = (code: string, message: string): StreamOutcome => {
    callbacks.onError?.({ code, message, fromServer: false }, streamId);
    return 'error';
  };

  let response: Response;
  try {
    response = await api.fetch(`${api.base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson', [SESSION_HEADER]: request.sessionId },
      body: JSON.stringify({ messages: request.messages, ...(request.model ? { model: request.model } : {}) }),
      signal: signal ?? null,
    });
  } catch (err) {
    if (signal?.aborted) return 'aborted';
    return fail('network_error', `Jarvis could not be reached (${describe(err)}).`);
  }
  if (!response.ok) {
    const apiError = await readApiError(response);
    if (signal?.aborted) return 'aborted';
    return fail(apiError.code, apiError.message);
  }
  if (!response.body) return fail('bad_stream', 'The response had no body.');
  const headerStreamId = response.headers.get(STREAM_HEADER);

  const reader = response.body.getReader();
  const splitter = new LineSplitter();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (signal?.aborted) return 'aborted';
        return fail('connection_lost', `The connection to Jarvis broke mid-answer (${describe(err)}).`);
      }
      const lines = chunk.done ? splitter.end() : splitter.push(chunk.value);
      for (const line of lines) {
        if (signal?.aborted) return 'aborted'; // the caller has moved on: nothing more for it
        const event = parseEvent(line);
        if (event === 'unknown') continue; // a newer server's event type: not ours to act on
        if (!event) return fail('bad_stream', `Jarvis sent a line that is not a chat event: ${line.slice(0, 120)}`);
        if (streamId === null) {
          // The first event names the stream; every callback reports the id its event carries.
          streamId = event.stream_id;
          if (debugEnabled()) console.debug('[stream] Extracted stream_id from response:', streamId);
          if (headerStreamId && headerStreamId !== streamId) {
            console.warn('[stream] X-Stream-Id header and first event disagree', { header: headerStreamId, event: streamId });
          }
        } else if (event.stream_id !== streamId) {
          console.warn('[stream] Event for another stream on this connection', { expected: streamId, received: event.stream_id });
        }
        const outcome = dispatchEvent(event, callbacks);
        if (outcome) return outcome;
      }
      if (chunk.done) return fail('connection_lost', 'The answer ended without a final event; Jarvis may have restarted.');
    }
  } finally {
    // Releases the connection whatever ended the loop (terminal event, bad line, error).
    reader.cancel().catch(() => {});
  }
}

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

const KNOWN_TYPES = new Set(['status', 'token', 'reasoning', 'tool_call', 'done', 'cancelled', 'error']);

/** Parses one line: an event, 'unknown' (a well-formed event of a type we do not know), or undefined (garbage). */
export function parseEvent(line: string): JarvisEvent | 'unknown' | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Record<string, unknown>;
  if (typeof e.type !== 'string' || typeof e.stream_id !== 'string') return undefined;
  if (!KNOWN_TYPES.has(e.type)) return 'unknown';
  if ((e.type === 'token' || e.type === 'reasoning') && typeof e.text !== 'string') return undefined;
  return value as JarvisEvent;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
