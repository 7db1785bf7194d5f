// What one browser tab (or any client) holds about its conversations and their streams
// (docs/ui.md, docs/conversations.md): the chat state, changed only through the reducer,
// and which reader owns each conversation's answer. The one rule that keeps answers from
// mixing: each conversation has at most one active stream id; every event is checked
// against it (`isActive`), and events of any other stream are dropped.
//
// No React, no DOM: the UI reads it with useSyncExternalStore (`subscribe`, `getState`),
// and tests drive it directly.

import type { AnswerOutcome } from '../answerReader.js';
import { chatReducer, type ChatAction, type ChatState } from './chatState.js';

/** One answer this client is reading. Ids are mutable: a draft conversation and local message ids get the server's. */
export interface Reader {
  conversationId: string;
  messageId: string;
  /** The prompt it answers, while it still has a local id (the server's comes with the response headers). */
  userMessageId?: string;
  controller: AbortController;
  /** Known from the response headers (a prompt) or from the start (a reattach). */
  streamId: string | null;
  /** Stop was pressed here: the stream's last tokens and its `cancelled` are expected, not stale. */
  stopped: boolean;
  finished: Promise<AnswerOutcome>;
}

export const DRAFT_PREFIX = 'draft-';

/**
 * Runs `flush` soon, once: the UI passes one bound to the display's frames (docs/ui.md "Fast
 * models"), so a model streaming thousands of tokens a second costs one render per frame.
 */
export type NotifyScheduler = (flush: () => void) => void;

/** The actions a stream sends per token: their notifications may wait for the scheduler; all others go out at once. */
const PER_TOKEN: ReadonlySet<ChatAction['type']> = new Set(['append-text', 'append-reasoning']);

export class ChatSession {
  private state: ChatState;
  private readonly listeners = new Set<() => void>();
  /** The reader that owns each conversation's answer. */
  private readonly owners = new Map<string, Reader>();
  /** Every reader still reading, owners or not (a superseded one reads on until its `cancelled`). */
  private readonly live = new Set<Reader>();
  private readonly activeStreamIds = new Map<string, string | null>();
  /** Streams this client started or follows: the feed's news of them is not news. */
  private readonly known = new Set<string>();
  /** Per conversation, the last prompt whose response headers have not come yet: the next waits for it, so they reach the server in order. */
  private readonly sendChain = new Map<string, Promise<void>>();
  /** A Stop still being delivered: the next prompt waits for it, or Stop could hit the new stream. */
  private readonly stopping = new Map<string, Promise<unknown>>();
  /** Drafts (conversations made here) being created on the server: draft id → server id (null: it failed). */
  private readonly drafts = new Map<string, Promise<string | null>>();

  private readonly schedule: NotifyScheduler | null;
  /** A per-token change not yet notified, and whether a flush is scheduled for it. */
  private unnotified = false;
  private flushScheduled = false;

  /** Without `schedule`, every change is notified at once (tests, and clients that render nothing). */
  constructor(initial: ChatState, schedule: NotifyScheduler | null = null) {
    this.state = initial;
    this.schedule = schedule;
  }

  // ---- the state, for useSyncExternalStore and the actions

  readonly getState = (): ChatState => this.state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /**
   * Applies `action` at once: two prompts sent before anyone re-renders still see each other, and
   * `getState()` is always exact. Listeners hear of it at once, except of per-token changes when
   * there is a scheduler: those are coalesced into one notification when it runs the flush.
   */
  dispatch(action: ChatAction): void {
    this.state = chatReducer(this.state, action);
    if (!this.schedule || !PER_TOKEN.has(action.type)) return this.notify();
    this.unnotified = true;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.schedule(() => {
      this.flushScheduled = false;
      if (this.unnotified) this.notify();
    });
  }

  private notify(): void {
    this.unnotified = false;
    for (const listener of [...this.listeners]) listener();
  }

  // ---- who owns each conversation's answer

  /** Makes a new reader the owner of `conversationId`'s answer; `streamId` when it is known already (a reattach). */
  claim(conversationId: string, messageId: string, streamId: string | null = null, userMessageId?: string): Reader {
    const reader: Reader = { conversationId, messageId, controller: new AbortController(), streamId, stopped: false, finished: Promise.resolve('aborted') };
    if (userMessageId) reader.userMessageId = userMessageId;
    this.owners.set(conversationId, reader);
    this.live.add(reader); // from now: a draft's id must follow it to the server's
    this.activeStreamIds.set(conversationId, streamId);
    if (streamId) this.known.add(streamId);
    return reader;
  }

  owner(conversationId: string): Reader | undefined {
    return this.owners.get(conversationId);
  }

  owns(reader: Reader): boolean {
    return this.owners.get(reader.conversationId) === reader;
  }

  /** Whether `streamId`'s events may change `reader`'s answer: it owns the conversation and that stream is the active one. */
  isActive(reader: Reader, streamId: string): boolean {
    return this.owns(reader) && this.activeStreamIds.get(reader.conversationId) === streamId;
  }

  /** The active stream id of a conversation (null: none yet, or none). */
  activeStreamId(conversationId: string): string | null {
    return this.activeStreamIds.get(conversationId) ?? null;
  }

  /** The owner's stream started: its events are the ones to show. False (and nothing changes) for a reader that no longer owns. */
  activate(reader: Reader, streamId: string): boolean {
    if (!this.owns(reader)) return false;
    this.activeStreamIds.set(reader.conversationId, streamId);
    return true;
  }

  /** The reader's answer is over here (ended, superseded, stopped): nothing of its stream is shown any more. */
  release(reader: Reader): void {
    if (!this.owns(reader)) return;
    this.owners.delete(reader.conversationId);
    this.activeStreamIds.set(reader.conversationId, null);
  }

  /** The reader has stopped reading. */
  finished(reader: Reader): void {
    this.live.delete(reader);
  }

  /** Marks a stream as this client's own (its prompt, or one it follows). */
  know(streamId: string): void {
    this.known.add(streamId);
  }

  knows(streamId: string): boolean {
    return this.known.has(streamId);
  }

  /** Moves everything kept under a draft's id to the server's id: readers, stream ids, the send and stop order, the state. */
  rekey(from: string, to: string): void {
    for (const map of [this.owners, this.activeStreamIds, this.sendChain, this.stopping] as Array<Map<string, unknown>>) {
      if (map.has(from)) {
        map.set(to, map.get(from));
        map.delete(from);
      }
    }
    for (const reader of this.live) if (reader.conversationId === from) reader.conversationId = to;
    this.dispatch({ type: 'rekey', from, to });
  }

  // ---- the order of prompts and Stops within a conversation

  /**
   * Queues a prompt of `conversationId` behind the earlier ones: `previous` settles once
   * they have their response headers; call `opened` when this one has its own.
   */
  queueSend(conversationId: string, reader: Reader): { previous: Promise<void> | undefined; opened: () => void } {
    const previous = this.sendChain.get(conversationId);
    let opened!: () => void;
    const sent = new Promise<void>((resolve) => (opened = resolve));
    this.sendChain.set(conversationId, sent);
    void sent.then(() => {
      if (this.sendChain.get(reader.conversationId) === sent) this.sendChain.delete(reader.conversationId);
    });
    return { previous, opened };
  }

  /** Settles once the prompts already sent in `conversationId` have their response headers. */
  sendsDelivered(conversationId: string): Promise<void> | undefined {
    return this.sendChain.get(conversationId);
  }

  /** Remembers a Stop being delivered, for the next prompt to wait for. */
  trackStop(reader: Reader, stopping: Promise<unknown>): void {
    this.stopping.set(reader.conversationId, stopping);
    void stopping.finally(() => {
      if (this.stopping.get(reader.conversationId) === stopping) this.stopping.delete(reader.conversationId);
    });
  }

  stopsDelivered(conversationId: string): Promise<unknown> | undefined {
    return this.stopping.get(conversationId);
  }

  // ---- drafts: conversations made here, created on the server meanwhile

  addDraft(draftId: string, created: Promise<string | null>): void {
    this.drafts.set(draftId, created);
    void created.then((id) => {
      if (id) this.drafts.delete(draftId); // a failed one stays: its prompts learn that it has no server id
    });
  }

  /** The server id of a conversation (a draft waits for its creation); null when it could not be created. */
  async serverIdOf(id: string): Promise<string | null> {
    const draft = this.drafts.get(id);
    return draft ? draft : id;
  }

  /** Closes this client's connections (leaving the page); the answers go on on the server. */
  closeAll(): void {
    for (const reader of this.owners.values()) reader.controller.abort();
  }
}
