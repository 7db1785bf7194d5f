// The chat's state and its streams. Conversations live on the server; this tab holds
// a copy, kept live by three things:
// - readers (lib/answerStream.ts): one per answer this tab shows streaming, which
//   survive network drops by reattaching at their last seq;
// - the conversation feed (GET /v1/conversations/events): other tabs' and browsers'
//   new conversations, renames, deletions and prompts;
// - reloads of one conversation from the server when the feed says it changed elsewhere.
// The one rule that keeps answers from mixing (runbook §3): each conversation has at
// most one active stream id, held in a ref; every event is checked against it, and
// events of any other stream are dropped with a console warning.

import { createContext, useCallback, useContext, useEffect, useMemo, useReducer, useRef, type ReactNode } from 'react';
import type { Api } from '../../../src/client/api.js';
import { browserApi } from '../../../src/client/api.js';
import { type AnswerCallbacks, type AnswerOutcome, readAnswer } from '../../../src/client/answerReader.js';
import {
  ApiCallError,
  type AnswerTurn,
  conversationFeedRequest,
  createConversation,
  deleteConversation,
  getConversation,
  listConversations,
  type ConversationJson,
  startAnswerRequest,
  stopConversation,
  updateConversation,
} from '../../../src/client/conversationsApi.js';
import { saveSettings, type SettingsPatch } from '../lib/conversationTools.js';
import { importLegacyConversations } from '../lib/legacyImport.js';
import { type Backoff, type Cursor, DEFAULT_BACKOFF, formatCursor, parseCursor, reconnectDelay } from '../../../src/client/resume.js';
import { loadSelected, saveSelected } from '../lib/storage.js';
import { LineSplitter } from '../../../src/shared/ndjson.js';
import { chatReducer, initialChatState, newLocalConversation, ordered, type ChatAction, type ChatState } from '../../../src/client/chat/chatState.js';
import { randomId } from '../../../src/client/chat/ids.js';
import { LIVE_STATES, type AssistantMessage, type Conversation, type Message } from '../../../src/client/chat/types.js';

export interface ChatContextValue {
  /** Most recently used first. */
  conversations: Conversation[];
  selected: Conversation | null;
  /** False until the list was first read from the server. */
  listed: boolean;
  /** Opens an empty chat; the server gets it with its first prompt. */
  newConversation(): void;
  select(id: string): void;
  rename(id: string, title: string): void;
  remove(id: string): void;
  /**
   * Sends a prompt in the selected conversation; supersedes a running answer. In a new chat it
   * creates the conversation on the server with `model` and `settings` (set before the first message).
   */
  send(text: string, model?: string, settings?: Omit<SettingsPatch, 'model'>): void;
  /** Stops the running answer of a conversation (default: the selected one). */
  stop(conversationId?: string): void;
  /** Asks again for an answer that failed, in place. */
  retry(messageId: string, model?: string): void;
  /** Answers the last prompt of the selected conversation again, in place of its last answer. */
  regenerate(model?: string): void;
  /** Edit and resend: the user message gets `content`, the messages after it are replaced by a new answer. */
  edit(messageId: string, content: string, model?: string): void;
  /** Stores a conversation's settings (system prompt, model, temperature, max tokens) on the server. */
  updateSettings(id: string, settings: SettingsPatch): Promise<void>;
}

/** One answer this tab is reading. Ids are mutable: a draft conversation and local message ids get the server's. */
interface Reader {
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

type EventKind = 'status' | 'delta' | 'reasoning' | 'done' | 'cancelled' | 'error';

/** How long a superseded answer may keep its connection open before we close it ourselves. */
const SUPERSEDED_GRACE_MS = 10_000;
/** How long Stop waits for the stop endpoint, and then for the stream's end, before closing the connection. */
const STOP_CALL_TIMEOUT_MS = 3_000;
const DRAFT_PREFIX = 'draft-';

const ChatContext = createContext<ChatContextValue | null>(null);

export function useChat(): ChatContextValue {
  const value = useContext(ChatContext);
  if (!value) throw new Error('useChat must be used inside <ChatProvider>');
  return value;
}

export interface ChatProviderProps {
  children: ReactNode;
  api?: Api;
  /** Preferences, the selection default, and the old conversations to import. */
  storage?: Storage;
  /** Per-tab storage for the selected conversation. */
  tabStorage?: Storage;
  /** Reconnection waits (tests make them short). */
  backoff?: Backoff;
}

export function ChatProvider({ children, api = browserApi, storage = safeStorage('localStorage'), tabStorage = safeStorage('sessionStorage'), backoff = DEFAULT_BACKOFF }: ChatProviderProps) {
  const [state, reactDispatch] = useReducer(chatReducer, undefined, () => initialChatState(loadSelected(storage, tabStorage)));
  // The latest state for callbacks, advanced at once on every action: two prompts sent
  // before React renders must still see each other (same conversation, full history).
  const stateRef = useRef(state);
  stateRef.current = state;
  const dispatch = useCallback((action: ChatAction) => {
    stateRef.current = chatReducer(stateRef.current, action);
    reactDispatch(action);
  }, []);

  // The reader that owns each conversation's answer, and the stream id it was given.
  const readersRef = useRef(new Map<string, Reader>());
  /** Every reader still reading, owners or not (a superseded one reads on until its `cancelled`). */
  const liveReadersRef = useRef(new Set<Reader>());
  const activeStreamIdRef = useRef(new Map<string, string | null>());
  /** Streams this tab started or follows: the feed's news of them is not news. */
  const knownStreamsRef = useRef(new Set<string>());
  /** Per conversation, the last prompt whose response headers have not come yet: the next waits for it, so they reach the server in order. */
  const sendChainRef = useRef(new Map<string, Promise<void>>());
  // A Stop still being delivered: the next prompt waits for it, or Stop could hit the new stream.
  const stoppingRef = useRef(new Map<string, Promise<unknown>>());
  /** Drafts (conversations made here) being created on the server: draft id → server id. */
  const draftsRef = useRef(new Map<string, Promise<string | null>>());
  const unmountedRef = useRef(new AbortController());

  const ignore = useCallback((kind: EventKind, conversationId: string, received: string | null) => {
    const active = activeStreamIdRef.current.get(conversationId) ?? null;
    console.warn(`[chat] Ignoring ${kind} from inactive stream`, { active, received });
  }, []);

  const release = useCallback((reader: Reader) => {
    if (readersRef.current.get(reader.conversationId) !== reader) return;
    readersRef.current.delete(reader.conversationId);
    activeStreamIdRef.current.set(reader.conversationId, null);
  }, []);

  const patch = useCallback((reader: Reader, change: Partial<AssistantMessage>) => {
    dispatch({ type: 'patch-answer', id: reader.conversationId, messageId: reader.messageId, patch: change });
  }, [dispatch]);

  /** Moves everything this tab keeps under a draft's id to the server's id. */
  const rekey = useCallback((from: string, to: string) => {
    for (const map of [readersRef.current, activeStreamIdRef.current, sendChainRef.current, stoppingRef.current] as Array<Map<string, unknown>>) {
      if (map.has(from)) {
        map.set(to, map.get(from));
        map.delete(from);
      }
    }
    for (const reader of liveReadersRef.current) if (reader.conversationId === from) reader.conversationId = to;
    dispatch({ type: 'rekey', from, to });
  }, [dispatch]);

  /** The callbacks of one reader: they apply its events only while it owns the conversation's active stream. */
  const callbacksFor = useCallback(
    (reader: Reader, onOpened?: () => void): AnswerCallbacks => {
      const isActive = (streamId: string) =>
        readersRef.current.get(reader.conversationId) === reader && activeStreamIdRef.current.get(reader.conversationId) === streamId;
      return {
        onOpen({ streamId, messageId, userMessageId }) {
          knownStreamsRef.current.add(streamId);
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
        onStatus(event, streamId) {
          // Only the reader that owns the conversation may make its stream the active one.
          if (readersRef.current.get(reader.conversationId) !== reader) return ignore('status', reader.conversationId, streamId);
          activeStreamIdRef.current.set(reader.conversationId, streamId);
          console.log('[chat] Stream started:', streamId);
          patch(reader, { streamId, model: event.model });
        },
        onDelta(text, streamId) {
          if (reader.stopped) return; // tokens already on their way when Stop was pressed
          if (!isActive(streamId)) return ignore('delta', reader.conversationId, streamId);
          dispatch({ type: 'append-text', id: reader.conversationId, messageId: reader.messageId, text });
        },
        onReasoning(text, streamId) {
          if (reader.stopped) return;
          if (!isActive(streamId)) return ignore('reasoning', reader.conversationId, streamId);
          dispatch({ type: 'append-reasoning', id: reader.conversationId, messageId: reader.messageId, text });
        },
        onDone(event, streamId) {
          if (reader.stopped) return;
          if (!isActive(streamId)) return ignore('done', reader.conversationId, streamId);
          release(reader);
          patch(reader, { state: 'done', reason: event.reason, reconnecting: false, usage: event.usage, ...(event.timings ? { timings: event.timings } : {}) });
        },
        onCancelled(event, streamId) {
          if (reader.stopped) return; // the end of the answer we stopped: expected
          if (!isActive(streamId)) return ignore('cancelled', reader.conversationId, streamId);
          release(reader);
          // Superseded by a prompt from elsewhere (another tab, the API); anything else ended it early.
          patch(reader, { state: event.reason === 'superseded' ? 'superseded' : 'stopped', reason: event.reason, reconnecting: false });
        },
        onError(failure, streamId) {
          if (reader.stopped) return;
          const mine = streamId === null ? readersRef.current.get(reader.conversationId) === reader : isActive(streamId);
          if (!mine) return ignore('error', reader.conversationId, streamId);
          release(reader);
          patch(reader, { state: 'error', error: { code: failure.code, message: failure.message }, reconnecting: false });
        },
        onReconnecting(attempt, delayMs) {
          if (readersRef.current.get(reader.conversationId) !== reader) return;
          if (attempt === 1) console.warn('[chat] Connection lost mid-answer; reconnecting', { stream: reader.streamId });
          else console.debug('[chat] Reconnecting', { stream: reader.streamId, attempt, delayMs });
          patch(reader, { reconnecting: true });
        },
        onReconnected() {
          if (readersRef.current.get(reader.conversationId) !== reader) return;
          console.log('[chat] Reconnected to stream:', reader.streamId);
          patch(reader, { reconnecting: false });
        },
      };
    },
    [dispatch, ignore, patch, release],
  );

  const refreshRef = useRef<(conversationId: string) => Promise<void>>(async () => {});

  /** Reads an answer to its end; an answer the server no longer streams is read from the store instead. */
  const run = useCallback(
    (reader: Reader, start: Parameters<typeof readAnswer>[0]['start'], onOpened?: () => void): Promise<AnswerOutcome> => {
      liveReadersRef.current.add(reader);
      return readAnswer(
        {
          api,
          signal: reader.controller.signal,
          start,
          backoff,
          shouldReconnect: () => readersRef.current.get(reader.conversationId) === reader && !reader.stopped,
        },
        callbacksFor(reader, onOpened),
      ).then((outcome) => {
        if (outcome === 'lost' && readersRef.current.get(reader.conversationId) === reader) {
          release(reader);
          void refreshRef.current(reader.conversationId);
        }
        return outcome;
      }).finally(() => liveReadersRef.current.delete(reader));
    },
    [api, backoff, callbacksFor, release],
  );

  /** Follows an answer streaming on the server (after a reload, or a prompt made elsewhere) from `after`. */
  const follow = useCallback(
    (conversationId: string, messageId: string, streamId: string, after: Cursor) => {
      const reader: Reader = { conversationId, messageId, controller: new AbortController(), streamId, stopped: false, finished: Promise.resolve('aborted') };
      readersRef.current.set(conversationId, reader);
      activeStreamIdRef.current.set(conversationId, streamId);
      knownStreamsRef.current.add(streamId);
      console.log('[chat] Following stream:', streamId, 'after', formatCursor(after) ?? 'start');
      reader.finished = run(reader, { kind: 'follow', streamId, after });
    },
    [run],
  );

  /** Ends this tab's running answer in a conversation before a new one starts; its text stays. */
  const supersede = useCallback(
    (conversationId: string) => {
      const previous = readersRef.current.get(conversationId);
      if (!previous) return;
      release(previous);
      patch(previous, { state: 'superseded', reason: 'superseded', reconnecting: false });
      // The server ends the old stream itself when the new prompt arrives (README "Which format answers", session rule 1) and
      // its reader gets `cancelled` (dropped by the guard); this only guards against a server that does not.
      const timer = setTimeout(() => previous.controller.abort(), SUPERSEDED_GRACE_MS);
      void previous.finished.finally(() => clearTimeout(timer));
    },
    [patch, release],
  );

  /** Reads one conversation from the server; an answer streaming there and not here is followed. */
  const refresh = useCallback(
    async (conversationId: string) => {
      if (conversationId.startsWith(DRAFT_PREFIX)) return;
      // Our own prompt in flight: let it get its ids first, or its messages would look foreign.
      await sendChainRef.current.get(conversationId);
      let server;
      try {
        server = await getConversation(api, conversationId, unmountedRef.current.signal);
      } catch (err) {
        if (err instanceof ApiCallError && err.status === 404) {
          readersRef.current.get(conversationId)?.controller.abort();
          dispatch({ type: 'delete', id: conversationId });
        } else if (!unmountedRef.current.signal.aborted) {
          console.warn('[chat] Could not load the conversation', conversationId, err);
        }
        return;
      }
      const reader = readersRef.current.get(conversationId);
      const keep = new Set<string>();
      if (reader && server.streaming?.message_id === reader.messageId) keep.add(reader.messageId);
      else if (reader) {
        // The server has moved on from what this tab was reading.
        release(reader);
        reader.controller.abort();
      }
      dispatch({ type: 'loaded', conversation: server, keep });
      const live = server.streaming;
      if (live && !keep.has(live.message_id)) follow(conversationId, live.message_id, live.stream_id, parseCursor(live.cursor));
    },
    [api, dispatch, follow, release],
  );
  refreshRef.current = refresh;

  /** The server id of a conversation (a draft waits for its creation); null when it could not be created. */
  const serverIdOf = useCallback(async (id: string): Promise<string | null> => {
    const draft = draftsRef.current.get(id);
    return draft ? draft : id;
  }, []);

  /** Starts an answer for `turn` into `messageId` (already shown), once earlier prompts and Stops of the conversation are delivered. */
  const startTurn = useCallback(
    (conversationKey: string, messageId: string, turn: AnswerTurn, model: string | undefined, userMessageId?: string) => {
      const reader: Reader = { conversationId: conversationKey, messageId, controller: new AbortController(), streamId: null, stopped: false, finished: Promise.resolve('aborted') };
      if (userMessageId) reader.userMessageId = userMessageId;
      readersRef.current.set(conversationKey, reader);
      liveReadersRef.current.add(reader); // from now: a draft's id must follow it to the server's
      activeStreamIdRef.current.set(conversationKey, null);
      const previous = sendChainRef.current.get(conversationKey);
      let opened!: () => void;
      const sent = new Promise<void>((resolve) => (opened = resolve));
      sendChainRef.current.set(conversationKey, sent);
      void sent.then(() => {
        if (sendChainRef.current.get(reader.conversationId) === sent) sendChainRef.current.delete(reader.conversationId);
      });

      reader.finished = (async () => {
        const conversationId = await serverIdOf(conversationKey);
        await previous;
        await stoppingRef.current.get(reader.conversationId);
        if (!conversationId) {
          opened();
          if (readersRef.current.get(reader.conversationId) === reader) {
            release(reader);
            patch(reader, { state: 'error', error: { code: 'create_failed', message: 'The conversation could not be created on the server.' } });
          }
          return 'error' as const;
        }
        if (reader.controller.signal.aborted || reader.stopped) {
          opened();
          return 'aborted' as const;
        }
        const outcome = await run(reader, { kind: 'request', open: (signal) => startAnswerRequest(api, conversationId, turn, model, signal) }, opened);
        opened(); // a request that failed before its headers
        return outcome;
      })().finally(() => liveReadersRef.current.delete(reader));
    },
    [api, patch, release, run, serverIdOf],
  );

  const stop = useCallback(
    (conversationId = stateRef.current.selectedId ?? undefined) => {
      if (!conversationId) return;
      const reader = readersRef.current.get(conversationId);
      if (!reader) return;
      reader.stopped = true;
      release(reader);
      patch(reader, { state: 'stopped', reason: 'stopped', reconnecting: false });
      if (conversationId.startsWith(DRAFT_PREFIX) && !reader.streamId) {
        reader.controller.abort(); // never sent: nothing to stop on the server
        return;
      }
      // The server ends the stream and our reader gets its `cancelled` (quietly); if either
      // does not happen in time, the connection is closed (the answer is stopped anyway, or will be).
      const stopping = (async () => {
        const id = await serverIdOf(conversationId);
        await sendChainRef.current.get(reader.conversationId);
        if (id) await withTimeout(stopConversation(api, id), STOP_CALL_TIMEOUT_MS);
      })()
        .catch((err: unknown) => console.warn('[chat] Stop request failed', err))
        .finally(() => {
          const timer = setTimeout(() => reader.controller.abort(), STOP_CALL_TIMEOUT_MS);
          void reader.finished.finally(() => clearTimeout(timer));
        });
      stoppingRef.current.set(conversationId, stopping);
      void stopping.finally(() => {
        if (stoppingRef.current.get(reader.conversationId) === stopping) stoppingRef.current.delete(reader.conversationId);
      });
    },
    [api, patch, release, serverIdOf],
  );

  const send = useCallback(
    (text: string, model?: string, settings?: Omit<SettingsPatch, 'model'>) => {
      const content = text.trim();
      if (!content) return;
      let conversationId = stateRef.current.selectedId;
      if (!conversationId || !stateRef.current.conversations[conversationId]) {
        // A new chat: shown at once, created on the server meanwhile.
        const draft = randomId(DRAFT_PREFIX);
        conversationId = draft;
        dispatch({ type: 'create', conversation: { ...newLocalConversation(draft), ...settings, ...(model ? { model } : {}) } });
        // A new chat takes the model chosen for it (the last one used) and the settings chosen
        // before its first message: stored with it on the server before the prompt goes.
        const created = createConversation(api, { ...settings, ...(model ? { model } : {}) }).then(
          (c) => {
            dispatch({ type: 'upsert', conversation: c });
            rekey(draft, c.id);
            draftsRef.current.delete(draft);
            return c.id;
          },
          (err: unknown) => {
            console.warn('[chat] Could not create the conversation', err);
            return null;
          },
        );
        draftsRef.current.set(draft, created);
      }
      supersede(conversationId);
      const now = Date.now();
      const user: Message = { id: randomId('local-'), role: 'user', content, createdAt: now };
      const answer: AssistantMessage = { id: randomId('local-'), role: 'assistant', content: '', state: 'thinking', createdAt: now, ...(model ? { model } : {}) };
      dispatch({ type: 'append', id: conversationId, messages: [user, answer] });
      startTurn(conversationId, answer.id, { kind: 'send', content }, model, user.id);
    },
    [api, dispatch, rekey, startTurn, supersede],
  );

  const retry = useCallback(
    (messageId: string, model?: string) => {
      const conversation = selectedOf(stateRef.current);
      const index = conversation?.messages.findIndex((m) => m.id === messageId) ?? -1;
      const message = conversation?.messages[index];
      if (!conversation || !message || message.role !== 'assistant' || index !== conversation.messages.length - 1) return;
      const prompt = conversation.messages[index - 1];
      if (!message.streamId && prompt?.role === 'user') {
        // The prompt may never have reached the server: send it again.
        dispatch({ type: 'truncate', id: conversation.id, fromMessageId: prompt.id });
        send(prompt.content, model);
        return;
      }
      supersede(conversation.id);
      dispatch({
        type: 'patch-answer',
        id: conversation.id,
        messageId,
        patch: { content: '', reasoning: undefined, state: 'thinking', error: undefined, reason: undefined, streamId: undefined, ...(model ? { model } : {}) },
      });
      startTurn(conversation.id, messageId, { kind: 'regenerate' }, model);
    },
    [dispatch, send, startTurn, supersede],
  );

  const regenerate = useCallback(
    (model?: string) => {
      const last = selectedOf(stateRef.current)?.messages.at(-1);
      if (last?.role === 'assistant' && !LIVE_STATES.has(last.state)) retry(last.id, model);
    },
    [retry],
  );

  const edit = useCallback(
    (messageId: string, text: string, model?: string) => {
      const content = text.trim();
      const conversation = selectedOf(stateRef.current);
      const message = conversation?.messages.find((m) => m.id === messageId);
      if (!content || !conversation || message?.role !== 'user') return;
      supersede(conversation.id);
      const answer: AssistantMessage = { id: randomId('local-'), role: 'assistant', content: '', state: 'thinking', createdAt: Date.now(), ...(model ? { model } : {}) };
      dispatch({ type: 'edit-user', id: conversation.id, messageId, content, answer });
      startTurn(conversation.id, answer.id, { kind: 'edit', messageId, content }, model);
    },
    [dispatch, startTurn, supersede],
  );

  const updateSettings = useCallback(
    async (id: string, settings: SettingsPatch) => {
      const serverId = await serverIdOf(id);
      if (!serverId) throw new Error('The conversation is not on the server yet.');
      dispatch({ type: 'upsert', conversation: await saveSettings(api, serverId, settings) });
    },
    [api, dispatch, serverIdOf],
  );

  const createConversationLocal = useCallback(() => dispatch({ type: 'select', id: null }), [dispatch]);

  const select = useCallback(
    (id: string) => {
      dispatch({ type: 'select', id });
      const conversation = stateRef.current.conversations[id];
      if (conversation && !conversation.loaded) void refresh(id);
    },
    [dispatch, refresh],
  );

  const rename = useCallback(
    (id: string, title: string) => {
      dispatch({ type: 'rename', id, title });
      void (async () => {
        const serverId = await serverIdOf(id);
        if (serverId) await updateConversation(api, serverId, { title: title.trim() });
      })().catch((err: unknown) => console.warn('[chat] Could not rename the conversation', err));
    },
    [api, dispatch, serverIdOf],
  );

  const remove = useCallback(
    (id: string) => {
      const reader = readersRef.current.get(id);
      if (reader) {
        release(reader);
        reader.stopped = true;
        reader.controller.abort();
      }
      dispatch({ type: 'delete', id });
      // The server stops its answer, if one streams, and tells the other tabs.
      void (async () => {
        const serverId = await serverIdOf(id);
        if (serverId) await deleteConversation(api, serverId);
      })().catch((err: unknown) => console.warn('[chat] Could not delete the conversation', err));
    },
    [api, dispatch, release, serverIdOf],
  );

  /** A prompt made elsewhere (another tab or browser, the API) on a conversation this tab shows. */
  const onAnswerStarted = useCallback(
    async (conversationId: string, streamId: string) => {
      await sendChainRef.current.get(conversationId);
      if (knownStreamsRef.current.has(streamId)) return; // our own prompt
      const conversation = stateRef.current.conversations[conversationId];
      if (!conversation?.loaded) return; // read when opened
      // The server superseded what this tab was reading; its `cancelled` arrives on that reader and is dropped.
      supersede(conversationId);
      await refresh(conversationId);
    },
    [refresh, supersede],
  );

  const onFeedEvent = useCallback(
    (event: FeedEvent) => {
      switch (event.type) {
        case 'conversation':
          if (event.op === 'deleted') {
            const reader = readersRef.current.get(event.conversation_id);
            if (reader) {
              release(reader);
              reader.controller.abort();
            }
            dispatch({ type: 'delete', id: event.conversation_id });
          } else if (event.conversation) {
            dispatch({ type: 'upsert', conversation: event.conversation });
          }
          return;
        case 'answer_started':
          void onAnswerStarted(event.conversation_id, event.stream_id);
          return;
        case 'answer_ended': {
          // An answer this tab shows as live but does not read (it ended between a load and a follow): read it again.
          const conversation = stateRef.current.conversations[event.conversation_id];
          const message = conversation?.messages.find((m) => m.id === event.message_id);
          const reading = readersRef.current.get(event.conversation_id)?.messageId === event.message_id;
          if (message?.role === 'assistant' && LIVE_STATES.has(message.state) && !reading) void refresh(event.conversation_id);
          return;
        }
        default:
          return;
      }
    },
    [dispatch, onAnswerStarted, refresh, release],
  );

  // Start-up: bring in the old localStorage chats once, list, open the selected one, then follow the feed.
  useEffect(() => {
    // One controller per mount (StrictMode mounts twice in development): leaving ends this mount's reads.
    const mounted = new AbortController();
    unmountedRef.current = mounted;
    const signal = mounted.signal;
    const readers = readersRef.current;
    let initial = true;
    const relist = async () => {
      const list = await listConversations(api, signal);
      dispatch({ type: 'listed', conversations: list });
      // On opening, the tab's last conversation, else the newest; later, whatever the user chose ("New chat" included).
      const selectedId = stateRef.current.selectedId ?? (initial ? (list[0]?.id ?? null) : null);
      initial = false;
      if (selectedId && selectedId !== stateRef.current.selectedId) dispatch({ type: 'select', id: selectedId });
      // The selected one is read again: a drop of the feed may have hidden a prompt made elsewhere.
      if (selectedId && !selectedId.startsWith(DRAFT_PREFIX)) await refresh(selectedId);
    };
    void (async () => {
      await importLegacyConversations(api, storage, tabStorage);
      if (signal.aborted) return;
      try {
        await relist();
      } catch (err) {
        if (!signal.aborted) console.warn('[chat] Could not list the conversations', err);
      }
      await followFeed(api, signal, backoff, onFeedEvent, relist);
    })();
    // Leaving the page closes this tab's connections; the answers go on on the server.
    return () => {
      mounted.abort();
      for (const reader of readers.values()) reader.controller.abort();
    };
  }, [api, storage, tabStorage, backoff, dispatch, onFeedEvent, refresh]);

  useEffect(() => {
    const id = state.selectedId;
    if (id?.startsWith(DRAFT_PREFIX)) return;
    saveSelected(storage, tabStorage, id);
  }, [storage, tabStorage, state.selectedId]);

  const value = useMemo<ChatContextValue>(
    () => ({
      conversations: ordered(state.conversations),
      selected: selectedOf(state),
      listed: state.listed,
      newConversation: createConversationLocal,
      select,
      rename,
      remove,
      send,
      stop,
      retry,
      regenerate,
      edit,
      updateSettings,
    }),
    [state, createConversationLocal, select, rename, remove, send, stop, retry, regenerate, edit, updateSettings],
  );

  return <ChatContext.Provider value={value}>{children}</ChatContext.Provider>;
}

type FeedEvent =
  | { type: 'ready' | 'ping' }
  | { type: 'conversation'; op: 'created' | 'updated' | 'deleted'; conversation_id: string; conversation?: ConversationJson }
  | { type: 'answer_started'; conversation_id: string; message_id: string; stream_id: string }
  | { type: 'answer_ended'; conversation_id: string; message_id: string; stream_id: string; state: string };

/**
 * Follows `GET /v1/conversations/events` until `signal` aborts, reconnecting with
 * backoff; after a reconnection the list is read again (what happened meanwhile).
 */
async function followFeed(api: Api, signal: AbortSignal, backoff: Backoff, onEvent: (event: FeedEvent) => void, relist: () => Promise<void>): Promise<void> {
  let failures = 0;
  let dropped = false;
  while (!signal.aborted) {
    try {
      const response = await conversationFeedRequest(api, signal);
      if (response.status === 401) return; // the sign-in screen comes up; signing in starts everything again
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      const reader = response.body.getReader();
      const splitter = new LineSplitter();
      try {
        for (;;) {
          const chunk = await reader.read();
          const lines = chunk.done ? splitter.end() : splitter.push(chunk.value);
          for (const line of lines) {
            const event = parseFeedEvent(line);
            if (!event) continue;
            if (event.type === 'ready') {
              failures = 0;
              if (dropped) await relist().catch((err: unknown) => console.warn('[chat] Could not list the conversations', err));
            } else if (event.type !== 'ping') onEvent(event);
          }
          if (chunk.done) break;
        }
      } finally {
        reader.cancel().catch(() => {});
      }
    } catch (err) {
      if (signal.aborted) return;
      if (failures === 0) console.warn('[chat] Conversation feed lost; reconnecting', err);
    }
    dropped = true;
    const delay = reconnectDelay(failures++, backoff);
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, delay);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve(undefined);
      }, { once: true });
    });
  }
}

function parseFeedEvent(line: string): FeedEvent | undefined {
  try {
    const value = JSON.parse(line) as { type?: unknown };
    return typeof value?.type === 'string' ? (value as FeedEvent) : undefined;
  } catch {
    return undefined;
  }
}

function selectedOf(state: ChatState): Conversation | null {
  return state.selectedId ? (state.conversations[state.selectedId] ?? null) : null;
}

export function isLive(conversation: Conversation | null): boolean {
  return !!conversation?.messages.some((m) => m.role === 'assistant' && LIVE_STATES.has(m.state));
}

function safeStorage(name: 'localStorage' | 'sessionStorage'): Storage | undefined {
  try {
    return globalThis[name];
  } catch {
    return undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
