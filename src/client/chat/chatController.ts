// What a person does in the chat (send, stop, retry, edit, rename, delete…) and how the
// client stays in step with the server (docs/conversations.md). Conversations live on
// the server; the client's copy (ChatSession) is kept live by three things:
// - readers (answers.ts): one per answer the client shows streaming, which survive
//   network drops by reattaching at their last seq;
// - the conversation feed (feedFollower.ts): other tabs' and browsers' new
//   conversations, renames, deletions and prompts;
// - reloads of one conversation from the server when the feed says it changed elsewhere.

import type { AttachmentInputJson, FeedEvent } from '../../shared/conversations.js';
import { shownAttachment } from '../attachments.js';
import type { Api } from '../api.js';
import {
  ApiCallError,
  type AnswerTurn,
  createConversation,
  deleteConversation,
  getConversation,
  listConversations,
  saveSettings,
  type SettingsPatch,
  switchBranch,
  updateConversation,
} from '../conversationsApi.js';
import { followFeed } from '../feedFollower.js';
import { type Backoff, DEFAULT_BACKOFF, parseCursor } from '../resume.js';
import { Answers } from './answers.js';
import { ChatSession, DRAFT_PREFIX, type NotifyScheduler } from './chatSession.js';
import { initialChatState, newLocalConversation } from './chatState.js';
import { randomId } from './ids.js';
import { LIVE_STATES, type AssistantMessage, type Conversation, type Message } from './types.js';

export interface ChatControllerOptions {
  api: Api;
  /** The conversation to show first (this tab's last one); null: the newest. */
  selectedId?: string | null;
  /** Reconnection waits (tests make them short). */
  backoff?: Backoff;
  /** Coalesces the notifications of streamed tokens (the browser's frames); none: each one at once. */
  schedule?: NotifyScheduler | null;
}

export class ChatController {
  readonly session: ChatSession;
  private readonly api: Api;
  private readonly backoff: Backoff;
  private readonly answers: Answers;
  private closed = new AbortController();
  /** Per conversation, the files of the last prompt sent from this tab, as sent (see `retry`). */
  private readonly lastFiles = new Map<string, { userId: string; attachments: AttachmentInputJson[] }>();

  constructor({ api, selectedId = null, backoff = DEFAULT_BACKOFF, schedule = null }: ChatControllerOptions) {
    this.api = api;
    this.backoff = backoff;
    this.session = new ChatSession(initialChatState(selectedId), schedule);
    this.answers = new Answers(
      this.session,
      api,
      backoff,
      (id) => void this.refresh(id),
      (id) => void this.readVersions(id),
    );
  }

  private get state() {
    return this.session.getState();
  }

  selected(): Conversation | null {
    const { selectedId, conversations } = this.state;
    return selectedId ? (conversations[selectedId] ?? null) : null;
  }

  /**
   * Lists the conversations, opens the selected one, then follows the feed until `close()`.
   * `before` runs first (the UI brings in its old localStorage chats there).
   */
  async open(before?: () => Promise<unknown>): Promise<void> {
    const mounted = (this.closed = new AbortController());
    const signal = mounted.signal;
    let initial = true;
    const relist = async () => {
      const list = await listConversations(this.api, signal);
      this.session.dispatch({ type: 'listed', conversations: list });
      // On opening, the tab's last conversation, else the newest; later, whatever the user chose ("New chat" included).
      const selectedId = this.state.selectedId ?? (initial ? (list[0]?.id ?? null) : null);
      initial = false;
      if (selectedId && selectedId !== this.state.selectedId) this.session.dispatch({ type: 'select', id: selectedId });
      // The selected one is read again: a drop of the feed may have hidden a prompt made elsewhere.
      if (selectedId && !selectedId.startsWith(DRAFT_PREFIX)) await this.refresh(selectedId);
    };
    await before?.();
    if (signal.aborted) return;
    try {
      await relist();
    } catch (err) {
      if (!signal.aborted) console.warn('[chat] Could not list the conversations', err);
    }
    await followFeed(this.api, signal, this.backoff, { onEvent: (event) => this.onFeedEvent(event), onResync: relist });
  }

  /** Closes this client's connections (leaving the page); the answers go on on the server. */
  close(): void {
    this.closed.abort();
    this.session.closeAll();
  }

  /** Opens an empty chat; the server gets it with its first prompt. */
  newConversation(): void {
    this.session.dispatch({ type: 'select', id: null });
  }

  select(id: string): void {
    this.session.dispatch({ type: 'select', id });
    const conversation = this.state.conversations[id];
    if (conversation && !conversation.loaded) void this.refresh(id);
  }

  /**
   * Sends a prompt in the selected conversation; supersedes a running answer. In a new chat it
   * creates the conversation on the server with `model` and `settings` (set before the first message).
   */
  send(text: string, model?: string, settings?: Omit<SettingsPatch, 'model'>, attachments?: AttachmentInputJson[]): void {
    const content = text.trim();
    if (!content) return;
    const { session } = this;
    let conversationId = this.state.selectedId;
    if (!conversationId || !this.state.conversations[conversationId]) {
      // A new chat: shown at once, created on the server meanwhile, with the model chosen for it
      // (the last one used) and the settings chosen before its first message.
      const draft = randomId(DRAFT_PREFIX);
      conversationId = draft;
      session.dispatch({ type: 'create', conversation: { ...newLocalConversation(draft), ...settings, ...(model ? { model } : {}) } });
      const created = createConversation(this.api, { ...settings, ...(model ? { model } : {}) }).then(
        (c) => {
          session.dispatch({ type: 'upsert', conversation: c });
          session.rekey(draft, c.id);
          return c.id;
        },
        (err: unknown) => {
          console.warn('[chat] Could not create the conversation', err);
          return null;
        },
      );
      session.addDraft(draft, created);
    }
    this.answers.supersede(conversationId);
    const now = Date.now();
    const user: Message = { id: randomId('local-'), role: 'user', content, createdAt: now, ...(attachments?.length ? { attachments: attachments.map(shownAttachment) } : {}) };
    const answer: AssistantMessage = { id: randomId('local-'), role: 'assistant', content: '', state: 'thinking', createdAt: now, ...(model ? { model } : {}) };
    session.dispatch({ type: 'append', id: conversationId, messages: [user, answer] });
    // Kept for a retry of a prompt that never reached the server (the shown copy has no file's bytes); the last prompt's only.
    if (attachments?.length) this.lastFiles.set(conversationId, { userId: user.id, attachments });
    else this.lastFiles.delete(conversationId);
    this.answers.start(conversationId, answer.id, { kind: 'send', content, ...(attachments?.length ? { attachments } : {}) }, model, user.id);
  }

  /** Stops the running answer of a conversation (default: the selected one). */
  stop(conversationId = this.state.selectedId ?? undefined): void {
    if (conversationId) this.answers.stop(conversationId);
  }

  /** Asks again for the last answer (it failed, or Regenerate): a new version of it, shown in its place; the old one stays a version. */
  retry(messageId: string, model?: string): void {
    const conversation = this.selected();
    const index = conversation?.messages.findIndex((m) => m.id === messageId) ?? -1;
    const message = conversation?.messages[index];
    if (!conversation || !message || message.role !== 'assistant' || index !== conversation.messages.length - 1) return;
    const prompt = conversation.messages[index - 1];
    if (!message.streamId && prompt?.role === 'user') {
      // The prompt may never have reached the server: send it again, with its files.
      const files = this.lastFiles.get(conversation.id);
      this.session.dispatch({ type: 'truncate', id: conversation.id, fromMessageId: prompt.id });
      this.send(prompt.content, model, undefined, files?.userId === prompt.id ? files.attachments : undefined);
      return;
    }
    this.answers.supersede(conversation.id);
    const answer: AssistantMessage = { id: randomId('local-'), role: 'assistant', content: '', state: 'thinking', createdAt: Date.now(), ...(model ? { model } : {}) };
    this.session.dispatch({ type: 'new-answer', id: conversation.id, messageId, answer });
    this.answers.start(conversation.id, answer.id, { kind: 'regenerate' }, model);
  }

  /** Answers the last prompt of the selected conversation again: a new version of its last answer. */
  regenerate(model?: string): void {
    const last = this.selected()?.messages.at(-1);
    if (last?.role === 'assistant' && !LIVE_STATES.has(last.state)) this.retry(last.id, model);
  }

  /**
   * Edit and resend: a new version of the user message, with `content` and a new answer, shown in its
   * place; the old one and what followed it stay a branch to switch back to.
   */
  edit(messageId: string, text: string, model?: string, attachments?: AttachmentInputJson[]): void {
    const content = text.trim();
    const conversation = this.selected();
    const message = conversation?.messages.find((m) => m.id === messageId);
    if (!content || !conversation || message?.role !== 'user') return;
    this.answers.supersede(conversation.id);
    const newId = randomId('local-');
    const answer: AssistantMessage = { id: randomId('local-'), role: 'assistant', content: '', state: 'thinking', createdAt: Date.now(), ...(model ? { model } : {}) };
    this.session.dispatch({ type: 'edit-user', id: conversation.id, messageId, newId, content, answer });
    // The new version's server id comes in X-User-Message-Id (the reader re-keys `newId` to it).
    this.answers.start(conversation.id, answer.id, { kind: 'edit', messageId, content, ...(attachments ? { attachments } : {}) } satisfies AnswerTurn, model, newId);
  }

  /**
   * Shows another version of a message: the branch through `messageId` becomes the conversation's
   * current one, here and in every tab. Refused while an answer of the conversation streams (the
   * server answers 409): the answer would go on in a branch nobody sees (docs/conversations.md
   * "Branches"). Resolves to null once shown, else to why not, in words.
   */
  async switchVersion(conversationId: string, messageId: string): Promise<string | null> {
    const conversation = this.state.conversations[conversationId];
    if (!conversation || conversationId.startsWith(DRAFT_PREFIX)) return 'This conversation is not on the server yet.';
    if (isLive(conversation) || this.session.owner(conversationId)) return 'Wait for the answer to finish (or stop it) to switch versions.';
    if (messageId.startsWith('local-')) {
      await this.refresh(conversationId); // a version whose request failed: the server never had it
      return 'That version was not saved.';
    }
    try {
      const server = await switchBranch(this.api, conversationId, messageId, this.closed.signal);
      // A prompt sent here meanwhile: what is shown now is newer than what the switch returned.
      if (this.session.owner(conversationId)) return null;
      this.session.dispatch({ type: 'loaded', conversation: server });
      return null;
    } catch (err) {
      if (this.closed.signal.aborted) return null;
      if (err instanceof ApiCallError && err.status === 409) {
        void this.refresh(conversationId); // an answer started elsewhere: show and follow it
        return 'An answer is streaming in this conversation: wait for it to finish (or stop it) to switch versions.';
      }
      if (err instanceof ApiCallError && err.status === 404) void this.refresh(conversationId);
      console.warn('[chat] Could not switch versions', err);
      return err instanceof Error ? err.message : 'Could not switch versions.';
    }
  }

  /** Stores a conversation's settings (system prompt, model, temperature, max tokens) on the server. */
  async updateSettings(id: string, settings: SettingsPatch): Promise<void> {
    const serverId = await this.session.serverIdOf(id);
    if (!serverId) throw new Error('The conversation is not on the server yet.');
    this.session.dispatch({ type: 'upsert', conversation: await saveSettings(this.api, serverId, settings) });
  }

  rename(id: string, title: string): void {
    this.session.dispatch({ type: 'rename', id, title });
    void this.onServer(id, (serverId) => updateConversation(this.api, serverId, { title: title.trim() })).catch((err: unknown) =>
      console.warn('[chat] Could not rename the conversation', err),
    );
  }

  remove(id: string): void {
    this.answers.drop(id, true);
    this.session.dispatch({ type: 'delete', id });
    // The server stops its answer, if one streams, and tells the other tabs.
    void this.onServer(id, (serverId) => deleteConversation(this.api, serverId)).catch((err: unknown) => console.warn('[chat] Could not delete the conversation', err));
  }

  /** Reads one conversation from the server; an answer streaming there and not here is followed. */
  async refresh(conversationId: string): Promise<void> {
    if (conversationId.startsWith(DRAFT_PREFIX)) return;
    const { session } = this;
    const readingBefore = session.owner(conversationId);
    // Our own prompt in flight: let it get its ids first, or its messages would look foreign.
    await session.sendsDelivered(conversationId);
    let server;
    try {
      server = await getConversation(this.api, conversationId, this.closed.signal);
    } catch (err) {
      if (err instanceof ApiCallError && err.status === 404) {
        session.owner(conversationId)?.controller.abort();
        session.dispatch({ type: 'delete', id: conversationId });
      } else if (!this.closed.signal.aborted) {
        console.warn('[chat] Could not load the conversation', conversationId, err);
      }
      return;
    }
    const reader = session.owner(conversationId);
    // A prompt sent here while the server was read: what it read is older than what is shown. Read again.
    if (reader && reader !== readingBefore) return this.refresh(conversationId);
    const keep = new Set<string>();
    if (reader && server.streaming?.message_id === reader.messageId) keep.add(reader.messageId);
    else if (reader) this.answers.drop(conversationId, false); // the server has moved on from what this client was reading
    session.dispatch({ type: 'loaded', conversation: server, keep });
    const live = server.streaming;
    if (live?.stream_id && !keep.has(live.message_id)) this.answers.follow(conversationId, live.message_id, live.stream_id, parseCursor(live.cursor));
  }

  /** A new version started: its parent and siblings as the server has them (another tab may have added one too). */
  private async readVersions(conversationId: string): Promise<void> {
    try {
      this.session.dispatch({ type: 'versions', conversation: await getConversation(this.api, conversationId, this.closed.signal) });
    } catch (err) {
      if (!this.closed.signal.aborted) console.warn('[chat] Could not read the versions', conversationId, err);
    }
  }

  private async onServer(id: string, call: (serverId: string) => Promise<unknown>): Promise<void> {
    const serverId = await this.session.serverIdOf(id);
    if (serverId) await call(serverId);
  }

  private onFeedEvent(event: FeedEvent): void {
    switch (event.type) {
      case 'conversation':
        if (event.op === 'deleted') {
          this.answers.drop(event.conversation_id, false);
          this.session.dispatch({ type: 'delete', id: event.conversation_id });
        } else if (event.conversation) {
          this.session.dispatch({ type: 'upsert', conversation: event.conversation });
        }
        return;
      case 'answer_started':
        void this.onAnswerStarted(event.conversation_id, event.stream_id);
        return;
      case 'answer_ended': {
        // An answer shown as live but not read here (it ended between a load and a follow): read it again.
        const conversation = this.state.conversations[event.conversation_id];
        const message = conversation?.messages.find((m) => m.id === event.message_id);
        const reading = this.session.owner(event.conversation_id)?.messageId === event.message_id;
        if (message?.role === 'assistant' && LIVE_STATES.has(message.state) && !reading) void this.refresh(event.conversation_id);
        return;
      }
      case 'branch_switched': {
        // Another tab switched versions: show its branch (this tab's own switch is shown already).
        const conversation = this.state.conversations[event.conversation_id];
        if (conversation?.loaded && conversation.messages.at(-1)?.id !== event.current_message_id) void this.refresh(event.conversation_id);
        return;
      }
    }
  }

  /** A prompt made elsewhere (another tab or browser, the API) on a conversation this client shows. */
  private async onAnswerStarted(conversationId: string, streamId: string): Promise<void> {
    await this.session.sendsDelivered(conversationId);
    if (this.session.knows(streamId)) return; // our own prompt
    if (!this.state.conversations[conversationId]?.loaded) return; // read when opened
    // The server superseded what this client was reading; its `cancelled` arrives on that reader and is dropped.
    this.answers.supersede(conversationId);
    await this.refresh(conversationId);
  }
}

/** Whether a conversation has an answer still coming. */
export function isLive(conversation: Conversation | null): boolean {
  return !!conversation?.messages.some((m) => m.role === 'assistant' && LIVE_STATES.has(m.state));
}
