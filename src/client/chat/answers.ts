// The answers a chat client reads (docs/conversations.md): starting one for a prompt,
// following one that streams on the server, superseding and stopping them. Every event
// goes through the stale-event guard: it changes the answer only while its reader owns
// the conversation's active stream (ChatSession.isActive); anything else is dropped with
// a console warning, which the end-to-end tests read.

import { type AnswerCallbacks, type AnswerOutcome, readAnswer } from '../answerReader.js';
import type { Api } from '../api.js';
import { type AnswerTurn, startAnswerRequest, stopConversation } from '../conversationsApi.js';
import { type Backoff, type Cursor, formatCursor } from '../resume.js';
import { withTimeout } from '../timing.js';
import { type ChatSession, DRAFT_PREFIX, type Reader } from './chatSession.js';
import type { AssistantMessage } from './types.js';

type EventKind = 'status' | 'delta' | 'reasoning' | 'done' | 'cancelled' | 'error';

/** How long a superseded answer may keep its connection open before we close it ourselves. */
const SUPERSEDED_GRACE_MS = 10_000;
/** How long Stop waits for the stop endpoint, and then for the stream's end, before closing the connection. */
const STOP_CALL_TIMEOUT_MS = 3_000;

export class Answers {
  constructor(
    private readonly session: ChatSession,
    private readonly api: Api,
    private readonly backoff: Backoff,
    /** An answer the server no longer streams: read the conversation from the store instead. */
    private readonly onLost: (conversationId: string) => void,
    /** A new version (an edit, a regenerated answer) reached the server: read its place in the tree. */
    private readonly onNewVersion: (conversationId: string) => void = () => {},
  ) {}

  /** Starts an answer for `turn` into `messageId` (already shown), once earlier prompts and Stops of the conversation are delivered. */
  start(conversationKey: string, messageId: string, turn: AnswerTurn, model: string | undefined, userMessageId?: string): void {
    const { session } = this;
    const reader = session.claim(conversationKey, messageId, null, userMessageId);
    const { previous, opened } = session.queueSend(conversationKey, reader);
    reader.finished = (async () => {
      const conversationId = await session.serverIdOf(conversationKey);
      await previous;
      await session.stopsDelivered(reader.conversationId);
      if (!conversationId) {
        opened();
        if (session.owns(reader)) {
          session.release(reader);
          this.patch(reader, { state: 'error', error: { code: 'create_failed', message: 'The conversation could not be created on the server.' } });
        }
        return 'error' as const;
      }
      if (reader.controller.signal.aborted || reader.stopped) {
        opened();
        return 'aborted' as const;
      }
      const onOpened = () => {
        opened();
        if (turn.kind !== 'send') this.onNewVersion(reader.conversationId);
      };
      const outcome = await this.run(reader, { kind: 'request', open: (signal) => startAnswerRequest(this.api, conversationId, turn, model, signal) }, onOpened);
      opened(); // a request that failed before its headers
      return outcome;
    })().finally(() => session.finished(reader));
  }

  /** Follows an answer streaming on the server (after a reload, or a prompt made elsewhere) from `after`. */
  follow(conversationId: string, messageId: string, streamId: string, after: Cursor): void {
    const reader = this.session.claim(conversationId, messageId, streamId);
    console.log('[chat] Following stream:', streamId, 'after', formatCursor(after) ?? 'start');
    reader.finished = this.run(reader, { kind: 'follow', streamId, after });
  }

  /** Ends this client's running answer in a conversation before a new one starts; its text stays. */
  supersede(conversationId: string): void {
    const previous = this.session.owner(conversationId);
    if (!previous) return;
    this.session.release(previous);
    this.patch(previous, { state: 'superseded', reason: 'superseded', reconnecting: false });
    // The server ends the old stream itself when the new prompt arrives (docs/conversations.md) and its
    // reader gets `cancelled` (dropped by the guard); this only guards against a server that does not.
    const timer = setTimeout(() => previous.controller.abort(), SUPERSEDED_GRACE_MS);
    void previous.finished.finally(() => clearTimeout(timer));
  }

  /** Stops the running answer of a conversation: it keeps its text, marked stopped. */
  stop(conversationId: string): void {
    const { session } = this;
    const reader = session.owner(conversationId);
    if (!reader) return;
    reader.stopped = true;
    session.release(reader);
    this.patch(reader, { state: 'stopped', reason: 'stopped', reconnecting: false });
    if (conversationId.startsWith(DRAFT_PREFIX) && !reader.streamId) {
      reader.controller.abort(); // never sent: nothing to stop on the server
      return;
    }
    // The server ends the stream and our reader gets its `cancelled` (quietly); if either
    // does not happen in time, the connection is closed (the answer is stopped anyway, or will be).
    // The prompts sent before this Stop (taken now: a prompt sent right after it waits for the Stop, not the other way round).
    const sentBefore = session.sendsDelivered(conversationId);
    const stopping = (async () => {
      const id = await session.serverIdOf(conversationId);
      await sentBefore;
      if (!id) return;
      const answer = await withTimeout(stopConversation(this.api, id), STOP_CALL_TIMEOUT_MS);
      // The server waited for the engine (bounded by its cancel grace): the answer shows whether it stopped.
      if (answer.engine) this.patch(reader, { stopVerdict: answer.engine });
    })()
      .catch((err: unknown) => console.warn('[chat] Stop request failed', err))
      .finally(() => {
        const timer = setTimeout(() => reader.controller.abort(), STOP_CALL_TIMEOUT_MS);
        void reader.finished.finally(() => clearTimeout(timer));
      });
    session.trackStop(reader, stopping);
  }

  /** Closes the connection of a conversation's answer (deleted here or elsewhere); `stopped` keeps its last events quiet. */
  drop(conversationId: string, stopped: boolean): void {
    const reader = this.session.owner(conversationId);
    if (!reader) return;
    this.session.release(reader);
    if (stopped) reader.stopped = true;
    reader.controller.abort();
  }

  /** Reads an answer to its end; an answer the server no longer streams is read from the store instead. */
  private run(reader: Reader, start: Parameters<typeof readAnswer>[0]['start'], onOpened?: () => void): Promise<AnswerOutcome> {
    const { session } = this;
    return readAnswer(
      { api: this.api, signal: reader.controller.signal, start, backoff: this.backoff, shouldReconnect: () => session.owns(reader) && !reader.stopped },
      this.callbacksFor(reader, onOpened),
    )
      .then((outcome) => {
        if (outcome === 'lost' && session.owns(reader)) {
          session.release(reader);
          this.onLost(reader.conversationId);
        }
        return outcome;
      })
      .finally(() => session.finished(reader));
  }

  private patch(reader: Reader, change: Partial<AssistantMessage>): void {
    this.session.dispatch({ type: 'patch-answer', id: reader.conversationId, messageId: reader.messageId, patch: change });
  }

  private ignore(kind: EventKind, reader: Reader, received: string | null): void {
    console.debug(`[chat] Ignoring ${kind} from inactive stream`, { active: this.session.activeStreamId(reader.conversationId), received });
  }

  /** The callbacks of one reader: they apply its events only while it owns the conversation's active stream. */
  private callbacksFor(reader: Reader, onOpened?: () => void): AnswerCallbacks {
    const { session } = this;
    const dispatch = (action: Parameters<ChatSession['dispatch']>[0]) => session.dispatch(action);
    return {
      onOpen: ({ streamId, messageId, userMessageId }) => {
        session.know(streamId);
        reader.streamId = streamId;
        if (messageId && messageId !== reader.messageId) {
          dispatch({ type: 'rekey-message', id: reader.conversationId, from: reader.messageId, to: messageId });
          reader.messageId = messageId;
        }
        // The prompt's server id: an Edit of it names the message the server knows.
        if (userMessageId && reader.userMessageId && userMessageId !== reader.userMessageId) {
          dispatch({ type: 'rekey-message', id: reader.conversationId, from: reader.userMessageId, to: userMessageId });
          reader.userMessageId = userMessageId;
        }
        onOpened?.();
      },
      onStatus: (event, streamId) => {
        // Only the reader that owns the conversation may make its stream the active one.
        if (!session.activate(reader, streamId)) return this.ignore('status', reader, streamId);
        console.log('[chat] Stream started:', streamId);
        this.patch(reader, { streamId, model: event.model });
      },
      onDelta: (text, streamId) => {
        if (reader.stopped) return; // tokens already on their way when Stop was pressed
        if (!session.isActive(reader, streamId)) return this.ignore('delta', reader, streamId);
        dispatch({ type: 'append-text', id: reader.conversationId, messageId: reader.messageId, text });
      },
      onReasoning: (text, streamId) => {
        if (reader.stopped) return;
        if (!session.isActive(reader, streamId)) return this.ignore('reasoning', reader, streamId);
        dispatch({ type: 'append-reasoning', id: reader.conversationId, messageId: reader.messageId, text });
      },
      onDone: (event, streamId) => {
        if (reader.stopped) return;
        if (!session.isActive(reader, streamId)) return this.ignore('done', reader, streamId);
        session.release(reader);
        this.patch(reader, { state: 'done', reason: event.reason, reconnecting: false, usage: event.usage, ...(event.timings ? { timings: event.timings } : {}), ...(event.limit_message ? { limitMessage: event.limit_message } : {}) });
      },
      onCancelled: (event, streamId) => {
        if (reader.stopped) return; // the end of the answer we stopped: expected
        if (!session.isActive(reader, streamId)) return this.ignore('cancelled', reader, streamId);
        session.release(reader);
        // Superseded by a prompt from elsewhere (another tab, the API); anything else ended it early.
        this.patch(reader, { state: event.reason === 'superseded' ? 'superseded' : 'stopped', reason: event.reason, reconnecting: false });
      },
      onError: (failure, streamId) => {
        if (reader.stopped) return;
        const mine = streamId === null ? session.owns(reader) : session.isActive(reader, streamId);
        if (!mine) return this.ignore('error', reader, streamId);
        session.release(reader);
        this.patch(reader, { state: 'error', error: { code: failure.code, message: failure.message }, reconnecting: false });
      },
      onReconnecting: (attempt, delayMs) => {
        if (!session.owns(reader)) return;
        if (attempt === 1) console.warn('[chat] Connection lost mid-answer; reconnecting', { stream: reader.streamId });
        else console.debug('[chat] Reconnecting', { stream: reader.streamId, attempt, delayMs });
        this.patch(reader, { reconnecting: true });
      },
      onReconnected: () => {
        if (!session.owns(reader)) return;
        console.log('[chat] Reconnected to stream:', reader.streamId);
        this.patch(reader, { reconnecting: false });
      },
    };
  }
}
