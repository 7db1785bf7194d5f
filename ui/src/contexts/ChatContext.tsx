// The chat's state and its streams. The one rule that keeps answers from mixing
// (runbook §3): each conversation has at most one active stream id, held in a ref
// and set when that stream's first event arrives; every event is checked against it,
// and events of any other stream are dropped with a console warning.

import { createContext, useCallback, useContext, useEffect, useMemo, useReducer, useRef, type ReactNode } from 'react';
import type { ChatMessage } from '../../../src/shared/events.js';
import { type Api, browserApi, stopSession } from '../lib/api.js';
import { usePersistence } from '../hooks/usePersistence.js';
import { loadConversations, loadSelected } from '../lib/storage.js';
import { streamChat, type StreamOutcome } from '../lib/stream.js';
import { chatReducer, newConversation, ordered, type ChatAction, type ChatState } from '../state/conversations.js';
import { randomId } from '../state/ids.js';
import { LIVE_STATES, type AssistantMessage, type Conversation, type Message } from '../state/types.js';

export interface ChatContextValue {
  /** Most recently used first. */
  conversations: Conversation[];
  selected: Conversation | null;
  newConversation(): void;
  select(id: string): void;
  rename(id: string, title: string): void;
  remove(id: string): void;
  /** Sends a prompt in the selected conversation (creating one if needed); supersedes a running answer. */
  send(text: string, model?: string): void;
  /** Stops the running answer of a conversation (default: the selected one). */
  stop(conversationId?: string): void;
  /** Asks again for an answer that failed, in place. */
  retry(messageId: string, model?: string): void;
}

export interface StreamRequest {
  conversationId: string;
  messageId: string;
  controller: AbortController;
  finished: Promise<StreamOutcome>;
}

type EventKind = 'status' | 'delta' | 'reasoning' | 'done' | 'cancelled' | 'error';

/** How long a superseded stream may keep its connection open before we close it ourselves. */
const SUPERSEDED_GRACE_MS = 10_000;
/** How long Stop waits for the stop endpoint before closing the connection anyway. */
const STOP_CALL_TIMEOUT_MS = 3_000;

const ChatContext = createContext<ChatContextValue | null>(null);

export function useChat(): ChatContextValue {
  const value = useContext(ChatContext);
  if (!value) throw new Error('useChat must be used inside <ChatProvider>');
  return value;
}

export interface ChatProviderProps {
  children: ReactNode;
  api?: Api;
  storage?: Storage;
  /** Per-tab storage for the selected conversation. */
  tabStorage?: Storage;
}

export function ChatProvider({ children, api = browserApi, storage = localStorage, tabStorage = sessionStorage }: ChatProviderProps) {
  const [state, reactDispatch] = useReducer(chatReducer, undefined, (): ChatState => {
    const conversations = loadConversations(storage);
    const wanted = loadSelected(storage, tabStorage);
    const selectedId = wanted && conversations[wanted] ? wanted : (ordered(conversations)[0]?.id ?? null);
    return { conversations, selectedId };
  });
  // The latest state for callbacks, advanced at once on every action: two prompts sent
  // before React renders must still see each other (same conversation, full history).
  const stateRef = useRef(state);
  stateRef.current = state;
  const dispatch = useCallback((action: ChatAction) => {
    stateRef.current = chatReducer(stateRef.current, action);
    reactDispatch(action);
  }, []);

  // Which request owns each conversation's session, and the stream id it was given.
  const ownerRef = useRef(new Map<string, StreamRequest>());
  const activeStreamIdRef = useRef(new Map<string, string | null>());
  // A Stop still being delivered: the next prompt waits for it, or Stop could hit the new stream.
  const stoppingRef = useRef(new Map<string, Promise<unknown>>());

  usePersistence(state, storage, tabStorage, dispatch, ownerRef);

  const ignore = useCallback((kind: EventKind, conversationId: string, received: string | null) => {
    const active = activeStreamIdRef.current.get(conversationId) ?? null;
    console.warn(`[chat] Ignoring ${kind} from inactive stream`, { active, received });
  }, []);

  const release = useCallback((request: StreamRequest) => {
    if (ownerRef.current.get(request.conversationId) !== request) return;
    ownerRef.current.delete(request.conversationId);
    activeStreamIdRef.current.set(request.conversationId, null);
  }, []);

  const patch = useCallback((conversationId: string, messageId: string, change: Partial<AssistantMessage>) => {
    dispatch({ type: 'patch-answer', id: conversationId, messageId, patch: change });
  }, []);

  const start = useCallback(
    (conversationId: string, messageId: string, history: ChatMessage[], model: string | undefined) => {
      const controller = new AbortController();
      const request = { conversationId, messageId, controller } as StreamRequest;
      ownerRef.current.set(conversationId, request);
      activeStreamIdRef.current.set(conversationId, null);
      const isActive = (streamId: string) => activeStreamIdRef.current.get(conversationId) === streamId;

      request.finished = (async () => {
        await stoppingRef.current.get(conversationId);
        if (controller.signal.aborted) return 'aborted' as const;
        return streamChat(api, { sessionId: conversationId, messages: history, model, signal: controller.signal }, {
          onStatus(event, streamId) {
            // Only the request that owns the session may make its stream the active one.
            if (ownerRef.current.get(conversationId) !== request) return ignore('status', conversationId, streamId);
            activeStreamIdRef.current.set(conversationId, streamId);
            console.log('[chat] Stream started:', streamId);
            patch(conversationId, messageId, { streamId, model: event.model });
          },
          onDelta(text, streamId) {
            if (!isActive(streamId)) return ignore('delta', conversationId, streamId);
            dispatch({ type: 'append-text', id: conversationId, messageId, text });
          },
          onReasoning(text, streamId) {
            if (!isActive(streamId)) return ignore('reasoning', conversationId, streamId);
            dispatch({ type: 'append-reasoning', id: conversationId, messageId, text });
          },
          onDone(event, streamId) {
            if (!isActive(streamId)) return ignore('done', conversationId, streamId);
            release(request);
            patch(conversationId, messageId, { state: 'done', reason: event.reason });
          },
          onCancelled(event, streamId) {
            if (!isActive(streamId)) return ignore('cancelled', conversationId, streamId);
            release(request);
            // Superseded by a prompt from elsewhere (another tab, the API); anything else ended it early.
            patch(conversationId, messageId, { state: event.reason === 'superseded' ? 'superseded' : 'stopped', reason: event.reason });
          },
          onError(failure, streamId) {
            const mine = streamId === null ? ownerRef.current.get(conversationId) === request : isActive(streamId);
            if (!mine) return ignore('error', conversationId, streamId);
            release(request);
            patch(conversationId, messageId, { state: 'error', error: { code: failure.code, message: failure.message } });
          },
        });
      })();
      return request;
    },
    [api, ignore, patch, release],
  );

  /** Ends this tab's running answer in a conversation before a new one starts; its text stays. */
  const supersede = useCallback(
    (conversationId: string) => {
      const previous = ownerRef.current.get(conversationId);
      if (!previous) return;
      release(previous);
      patch(conversationId, previous.messageId, { state: 'superseded', reason: 'superseded' });
      // The server ends the old stream itself when the new prompt arrives (SPEC §4.1);
      // closing it ourselves after a while only guards against a server that does not.
      const timer = setTimeout(() => previous.controller.abort(), SUPERSEDED_GRACE_MS);
      void previous.finished.finally(() => clearTimeout(timer));
    },
    [patch, release],
  );

  const stop = useCallback(
    (conversationId = stateRef.current.selectedId ?? undefined) => {
      if (!conversationId) return;
      const request = ownerRef.current.get(conversationId);
      if (!request) return;
      release(request);
      patch(conversationId, request.messageId, { state: 'stopped', reason: 'stopped' });
      // The endpoint stops the stream on the server even if our request has not reached it
      // as a stream yet; closing the connection afterwards covers a server that missed it.
      const stopping = withTimeout(stopSession(api, conversationId), STOP_CALL_TIMEOUT_MS)
        .catch((err: unknown) => console.warn('[chat] Stop request failed; closing the stream instead', err))
        .finally(() => request.controller.abort());
      stoppingRef.current.set(conversationId, stopping);
      void stopping.finally(() => {
        if (stoppingRef.current.get(conversationId) === stopping) stoppingRef.current.delete(conversationId);
      });
    },
    [api, patch, release],
  );

  const send = useCallback(
    (text: string, model?: string) => {
      const content = text.trim();
      if (!content) return;
      let conversation = selectedOf(stateRef.current);
      if (!conversation) {
        conversation = newConversation(randomId('c-'));
        dispatch({ type: 'create', conversation });
      }
      supersede(conversation.id);
      const now = Date.now();
      const user: Message = { id: randomId('m-'), role: 'user', content, createdAt: now };
      const answer: AssistantMessage = { id: randomId('m-'), role: 'assistant', content: '', state: 'thinking', createdAt: now, ...(model ? { model } : {}) };
      dispatch({ type: 'append', id: conversation.id, messages: [user, answer] });
      start(conversation.id, answer.id, [...toHistory(conversation.messages), { role: 'user', content }], model);
    },
    [start, supersede],
  );

  const retry = useCallback(
    (messageId: string, model?: string) => {
      const conversation = selectedOf(stateRef.current);
      const index = conversation?.messages.findIndex((m) => m.id === messageId) ?? -1;
      if (!conversation || index < 0 || conversation.messages[index]?.role !== 'assistant') return;
      supersede(conversation.id);
      patch(conversation.id, messageId, { content: '', state: 'thinking', error: undefined, reason: undefined, streamId: undefined, ...(model ? { model } : {}) });
      start(conversation.id, messageId, toHistory(conversation.messages.slice(0, index)), model);
    },
    [patch, start, supersede],
  );

  const createConversation = useCallback(() => {
    const current = selectedOf(stateRef.current);
    if (current && current.messages.length === 0) return; // an empty chat is already open: reuse it
    dispatch({ type: 'create', conversation: newConversation(randomId('c-')) });
  }, []);

  const remove = useCallback(
    (id: string) => {
      stop(id);
      dispatch({ type: 'delete', id });
    },
    [stop],
  );

  // Leaving the page closes every stream: the server sees the client go and stops generating.
  useEffect(() => {
    const owners = ownerRef.current;
    return () => {
      for (const request of owners.values()) request.controller.abort();
    };
  }, []);

  const value = useMemo<ChatContextValue>(
    () => ({
      conversations: ordered(state.conversations),
      selected: selectedOf(state),
      newConversation: createConversation,
      select: (id) => dispatch({ type: 'select', id }),
      rename: (id, title) => dispatch({ type: 'rename', id, title }),
      remove,
      send,
      stop,
      retry,
    }),
    [state, createConversation, remove, send, stop, retry],
  );

  return <ChatContext.Provider value={value}>{children}</ChatContext.Provider>;
}

function selectedOf(state: ChatState): Conversation | null {
  return state.selectedId ? (state.conversations[state.selectedId] ?? null) : null;
}

/** The messages the model sees: answers that failed or never produced text are left out. */
export function toHistory(messages: Message[]): ChatMessage[] {
  return messages
    .filter((m) => m.role === 'user' || (m.state !== 'error' && m.content.trim() !== ''))
    .map((m) => ({ role: m.role, content: m.content }));
}

export function isLive(conversation: Conversation | null): boolean {
  return !!conversation?.messages.some((m) => m.role === 'assistant' && LIVE_STATES.has(m.state));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
