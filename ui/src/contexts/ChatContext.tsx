// The chat for React: a ChatController (src/client/chat/, the framework-free client core)
// per provider, its state read with useSyncExternalStore, its actions handed to the
// components (docs/ui.md). Everything about streams (which answer is current, the order
// of prompts and Stops, reconnecting, drafts) lives in the controller and its ChatSession.

import { createContext, useContext, useEffect, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import { type Api, browserApi } from '../../../src/client/api.js';
import { ChatController, isLive } from '../../../src/client/chat/chatController.js';
import { ordered } from '../../../src/client/chat/chatState.js';
import { DRAFT_PREFIX } from '../../../src/client/chat/chatSession.js';
import type { Conversation } from '../../../src/client/chat/types.js';
import type { SettingsPatch } from '../../../src/client/conversationsApi.js';
import type { AttachmentInputJson } from '../../../src/shared/conversations.js';
import { type Backoff, DEFAULT_BACKOFF } from '../../../src/client/resume.js';
import { importLegacyConversations } from '../lib/conversations/legacyImport.js';
import { frameScheduler } from '../lib/browser/frames.js';
import { loadSelected, saveSelected } from '../lib/browser/storage.js';

export { isLive };

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
  send(text: string, model?: string, settings?: Omit<SettingsPatch, 'model'>, attachments?: AttachmentInputJson[]): void;
  /** Stops the running answer of a conversation (default: the selected one). */
  stop(conversationId?: string): void;
  /** Asks again for the last answer (it failed): a new version of it. */
  retry(messageId: string, model?: string): void;
  /** Answers the last prompt of the selected conversation again: a new version of its last answer. */
  regenerate(model?: string): void;
  /** Edit and resend: a new version of the user message with a new answer; the old one stays a version. */
  edit(messageId: string, content: string, model?: string): void;
  /** Shows another version of a message (its branch becomes current); resolves to null once shown, else to why not. */
  switchVersion(conversationId: string, messageId: string): Promise<string | null>;
  /** Stores a conversation's settings (system prompt, model, temperature, max tokens) on the server. */
  updateSettings(id: string, settings: SettingsPatch): Promise<void>;
}

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
  const controller = useMemo(() => new ChatController({ api, backoff, selectedId: loadSelected(storage, tabStorage), schedule: frameScheduler }), [api, backoff, storage, tabStorage]);
  const state = useSyncExternalStore(controller.session.subscribe, controller.session.getState);

  // Start-up: bring in the old localStorage chats once, list, open the selected one, then follow the feed.
  // Leaving the page closes this tab's connections; the answers go on on the server.
  useEffect(() => {
    void controller.open(() => importLegacyConversations(api, storage, tabStorage));
    return () => controller.close();
  }, [controller, api, storage, tabStorage]);

  useEffect(() => {
    const id = state.selectedId;
    if (id?.startsWith(DRAFT_PREFIX)) return;
    saveSelected(storage, tabStorage, id);
  }, [storage, tabStorage, state.selectedId]);

  const actions = useMemo(
    () => ({
      newConversation: () => controller.newConversation(),
      select: (id: string) => controller.select(id),
      rename: (id: string, title: string) => controller.rename(id, title),
      remove: (id: string) => controller.remove(id),
      send: (text: string, model?: string, settings?: Omit<SettingsPatch, 'model'>, attachments?: AttachmentInputJson[]) => controller.send(text, model, settings, attachments),
      stop: (conversationId?: string) => controller.stop(conversationId),
      retry: (messageId: string, model?: string) => controller.retry(messageId, model),
      regenerate: (model?: string) => controller.regenerate(model),
      edit: (messageId: string, content: string, model?: string) => controller.edit(messageId, content, model),
      switchVersion: (conversationId: string, messageId: string) => controller.switchVersion(conversationId, messageId),
      updateSettings: (id: string, settings: SettingsPatch) => controller.updateSettings(id, settings),
    }),
    [controller],
  );

  const value = useMemo<ChatContextValue>(
    () => ({
      conversations: ordered(state.conversations),
      selected: state.selectedId ? (state.conversations[state.selectedId] ?? null) : null,
      listed: state.listed,
      ...actions,
    }),
    [state, actions],
  );

  return <ChatContext.Provider value={value}>{children}</ChatContext.Provider>;
}

function safeStorage(name: 'localStorage' | 'sessionStorage'): Storage | undefined {
  try {
    return globalThis[name];
  } catch {
    return undefined;
  }
}
