// Reads one answer to its end, whatever happens to the connection: a prompt's own
// NDJSON response first (or a reattach, after a reload or for another tab's prompt),
// and after any drop a reattach at `GET /v1/streams/{id}/events?after=<cursor>` with
// backoff, so that the tokens before the drop plus those after it are exactly the
// answer. Like stream.ts, it decides nothing about which stream is current: every
// event is reported with the stream id it carries.

import type { JarvisEvent } from '../../../src/shared/events.js';
import { STREAM_HEADER } from '../../../src/shared/events.js';
import { LineSplitter } from '../../../src/shared/ndjson.js';
import { type Api, readApiError } from './api.js';
import { followStreamRequest } from './conversationsApi.js';
import { advanceCursor, alreadySeen, type Backoff, type Cursor, DEFAULT_BACKOFF, formatCursor, reconnectDelay } from './resume.js';
import { debugEnabled, dispatchEvent, parseEvent, type StreamCallbacks, type StreamOutcome } from './stream.js';

export interface AnswerIds {
  streamId: string;
  /** The assistant message (X-Message-Id), for a prompt's own response. */
  messageId?: string | undefined;
  userMessageId?: string | undefined;
}

export interface AnswerCallbacks extends StreamCallbacks {
  /** The response's headers arrived: which stream (and, for a prompt, which messages) this is. */
  onOpen?(ids: AnswerIds): void;
  /** The connection dropped; trying again in `delayMs`. */
  onReconnecting?(attempt: number, delayMs: number): void;
  /** Reading again after a drop. */
  onReconnected?(): void;
}

export interface AnswerReadOptions {
  api: Api;
  signal: AbortSignal;
  /** A prompt's request (its response is the stream), or a stream to follow from `after` (null: from its start). */
  start: { kind: 'request'; open(signal: AbortSignal): Promise<Response> } | { kind: 'follow'; streamId: string; after: Cursor };
  /** Asked before each reconnection: false gives up (e.g. the answer was superseded meanwhile). */
  shouldReconnect?(): boolean;
  backoff?: Backoff;
}

/**
 * `lost`: the stream cannot be read any more (unknown or expired at the server, e.g.
 * after a restart): the caller reads the stored answer instead.
 */
export type AnswerOutcome = StreamOutcome | 'lost';

type Attempt = { kind: 'terminal'; outcome: StreamOutcome } | { kind: 'dropped'; reason: string } | { kind: 'lost' };

export async function readAnswer(options: AnswerReadOptions, callbacks: AnswerCallbacks): Promise<AnswerOutcome> {
  const { api, signal } = options;
  let streamId = options.start.kind === 'follow' ? options.start.streamId : null;
  let cursor: Cursor = options.start.kind === 'follow' ? options.start.after : null;
  let failures = 0;
  let first = true;

  for (;;) {
    if (signal.aborted) return 'aborted';
    const prompt = first && options.start.kind === 'request';
    let attempt: Attempt;
    let response: Response | undefined;
    try {
      response =
        first && options.start.kind === 'request' ? await options.start.open(signal) : await followStreamRequest(api, streamId!, formatCursor(cursor), signal);
    } catch (err) {
      if (signal.aborted) return 'aborted';
      if (prompt) {
        // Nothing says whether the prompt arrived: the caller reloads the conversation to find out.
        callbacks.onError?.({ code: 'network_error', message: `Jarvis could not be reached (${describe(err)}).`, fromServer: false }, null);
        return 'error';
      }
      response = undefined;
    }
    first = false;

    if (!response) attempt = { kind: 'dropped', reason: 'unreachable' };
    else if (response.status === 404 && !prompt) attempt = { kind: 'lost' };
    else if (response.status === 204) attempt = { kind: 'lost' }; // nothing after our cursor, ever: read the stored answer
    else if (!response.ok) {
      // A proxy's 502, a restarting server or a bound of this key's (429: too many readers or connections
      // at once) is waited out; any other refusal is final.
      const apiError = await readApiError(response);
      if (signal.aborted) return 'aborted';
      if (!prompt && (response.status >= 500 || response.status === 429)) attempt = { kind: 'dropped', reason: `HTTP ${response.status}` };
      else {
        callbacks.onError?.({ code: apiError.code, message: apiError.message, fromServer: false }, streamId);
        return 'error';
      }
    } else {
      const headerId = response.headers.get(STREAM_HEADER);
      if (headerId && !streamId) {
        streamId = headerId;
        if (debugEnabled()) console.debug('[stream] Extracted stream_id from response:', streamId);
      }
      if (headerId) callbacks.onOpen?.({ streamId: headerId, messageId: response.headers.get('x-message-id') ?? undefined, userMessageId: response.headers.get('x-user-message-id') ?? undefined });
      if (failures > 0) callbacks.onReconnected?.();
      failures = 0;
      attempt = await readEvents(response, signal, (event) => {
        if (alreadySeen(cursor, event)) return undefined; // a replay overlapping what we have: never shown twice
        streamId ??= event.stream_id;
        cursor = advanceCursor(cursor, event);
        return dispatchEvent(event, callbacks);
      });
      if (attempt.kind === 'dropped' && attempt.reason === 'aborted') return 'aborted';
      if (attempt.kind === 'terminal') return attempt.outcome;
    }

    if (attempt.kind === 'lost') return 'lost';
    if (!streamId || (options.shouldReconnect && !options.shouldReconnect())) {
      if (!streamId) callbacks.onError?.({ code: 'connection_lost', message: 'The connection to Jarvis broke before the answer started.', fromServer: false }, null);
      return streamId ? 'aborted' : 'error';
    }
    const delay = reconnectDelay(failures, options.backoff ?? DEFAULT_BACKOFF);
    failures++;
    callbacks.onReconnecting?.(failures, delay);
    if (!(await sleep(delay, signal))) return 'aborted';
  }
}

async function readEvents(response: Response, signal: AbortSignal, onEvent: (event: JarvisEvent) => StreamOutcome | undefined): Promise<Attempt> {
  if (!response.body) return { kind: 'dropped', reason: 'no body' };
  const reader = response.body.getReader();
  const splitter = new LineSplitter();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        return { kind: 'dropped', reason: signal.aborted ? 'aborted' : describe(err) };
      }
      const lines = chunk.done ? splitter.end() : splitter.push(chunk.value);
      for (const line of lines) {
        if (signal.aborted) return { kind: 'dropped', reason: 'aborted' };
        const event = parseEvent(line);
        if (event === 'unknown' || !event) continue; // a newer server's event, or a line cut by the drop
        const outcome = onEvent(event);
        if (outcome) return { kind: 'terminal', outcome };
      }
      if (chunk.done) return { kind: 'dropped', reason: 'ended without a final event' };
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** Resolves true after `ms`, false at once if `signal` aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
