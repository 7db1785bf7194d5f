// Reads one answer to its end, whatever happens to the connection (docs/conversations.md,
// resume): a prompt's own NDJSON response first (or a reattach, after a reload or for
// another tab's prompt), and after any drop a reattach at
// `GET /v1/streams/{id}/events?after=<cursor>` with backoff, so that the tokens before the
// drop plus those after it are exactly the answer. It decides nothing about which stream
// is current: every event is reported with the stream id it carries.

import type { JarvisEvent } from '../shared/events.js';
import { STREAM_HEADER } from '../shared/events.js';
import { isKnownEvent, readEvents } from './readEvents.js';
import { abortableSleep, describe } from './timing.js';
import { type Api, readApiError } from './api.js';
import { followStreamRequest } from './conversationsApi.js';
import { advanceCursor, alreadySeen, type Backoff, type Cursor, DEFAULT_BACKOFF, formatCursor, reconnectDelay } from './resume.js';
import { debugEnabled, dispatchEvent, type StreamCallbacks, type StreamOutcome } from './answerEvents.js';

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
      attempt = await readAttempt(response, signal, (event) => {
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
    if (!(await abortableSleep(delay, signal))) return 'aborted';
  }
}

/** Reads one response's events until a terminal one (its outcome), or the connection's end or drop. */
async function readAttempt(response: Response, signal: AbortSignal, onEvent: (event: JarvisEvent) => StreamOutcome | undefined): Promise<Attempt> {
  if (!response.body) return { kind: 'dropped', reason: 'no body' };
  try {
    // A line cut by the drop, or a newer server's event type, is skipped.
    for await (const event of readEvents(response.body, signal)) {
      if (!isKnownEvent(event)) continue;
      const outcome = onEvent(event);
      if (outcome) return { kind: 'terminal', outcome };
    }
  } catch (err) {
    return { kind: 'dropped', reason: signal.aborted ? 'aborted' : describe(err) };
  }
  if (signal.aborted) return { kind: 'dropped', reason: 'aborted' };
  return { kind: 'dropped', reason: 'ended without a final event' };
}
