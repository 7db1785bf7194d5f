// The open conversation in the address bar (docs/ui.md "Links"): `/c/<id>` for a conversation,
// `/` for a new chat. Opening one or starting a new chat adds a history entry (Back and Forward
// go between them); what the chat does by itself (the newest opened at `/`, a new chat getting
// its id, the open one deleted) replaces the entry. A link to a conversation that is not in this
// key's list is "not available", whether it exists or not: the API answers 404 for both.

import { useCallback, useEffect, useRef, useState } from 'react';
import type { Api } from '../../../src/client/api.js';
import { DRAFT_PREFIX } from '../../../src/client/chat/chatSession.js';
import type { ChatContextValue } from '../contexts/ChatContext.js';
import { conversationIdOf, conversationPath } from '../lib/browser/storage.js';
import { readConversation } from '../lib/conversations/conversationTools.js';

/** history.state of a new chat's entry: a reload of it opens a new chat again, not the newest one. */
const NEW_CHAT_STATE = { jarvis: 'new-chat' } as const;

export type LinkState = 'ok' | 'checking' | 'unavailable';

export function useConversationUrl(chat: ChatContextValue, api: Api) {
  const [routeId, setRouteId] = useState(() => conversationIdOf(location.pathname));
  const [missing, setMissing] = useState<string | null>(null);
  // The route's conversation was in the list once: gone now means deleted, not "someone else's".
  const seen = useRef<string | null>(null);
  const reloadOfNewChat = useRef(routeId === null && (history.state as { jarvis?: string } | null)?.jarvis === NEW_CHAT_STATE.jarvis);
  const chatRef = useRef(chat);
  chatRef.current = chat;

  const selectedId = chat.selected?.id ?? null;
  const inList = routeId !== null && chat.conversations.some((c) => c.id === routeId);
  if (inList) seen.current = routeId;
  const unlisted = chat.listed && routeId !== null && !inList && seen.current !== routeId;

  /** Opens a conversation the user chose (the list, search): a new history entry. */
  const open = useCallback((id: string) => {
    // A chat still being saved has no address yet: `/` until it gets its id.
    const routed = id.startsWith(DRAFT_PREFIX) ? null : id;
    if (conversationIdOf(location.pathname) !== routed) history.pushState(null, '', conversationPath(routed));
    setRouteId(routed);
    chatRef.current.select(id);
  }, []);

  /** Starts a new chat: a new history entry at `/`. */
  const newChat = useCallback(() => {
    if (location.pathname !== '/' || (history.state as { jarvis?: string } | null)?.jarvis !== NEW_CHAT_STATE.jarvis) history.pushState(NEW_CHAT_STATE, '', '/');
    setRouteId(null);
    chatRef.current.newConversation();
  }, []);

  // Back and Forward: the entry's conversation, or a new chat.
  useEffect(() => {
    const onPop = () => {
      const id = conversationIdOf(location.pathname);
      setRouteId(id);
      if (id === null) chatRef.current.newConversation();
      else if (chatRef.current.conversations.some((c) => c.id === id)) chatRef.current.select(id);
    };
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  useEffect(() => {
    if (!chat.listed) return;
    if (routeId === null) {
      if (reloadOfNewChat.current) {
        // A reload of a new chat: the chat opened the newest conversation; the address says new.
        reloadOfNewChat.current = false;
        if (selectedId && !selectedId.startsWith(DRAFT_PREFIX)) chat.newConversation();
        return;
      }
      // The chat chose (the newest at `/`) or a new chat got its id: the address follows.
      if (selectedId && !selectedId.startsWith(DRAFT_PREFIX)) {
        history.replaceState(null, '', conversationPath(selectedId));
        setRouteId(selectedId);
      }
      return;
    }
    reloadOfNewChat.current = false;
    if (inList) {
      if (selectedId !== routeId) chat.select(routeId);
      return;
    }
    if (seen.current === routeId) {
      // The open conversation was deleted (here or elsewhere): a new chat, at `/`.
      history.replaceState(NEW_CHAT_STATE, '', '/');
      setRouteId(null);
      if (selectedId) chat.newConversation();
      return;
    }
    // Not in this key's list: nothing of another conversation may show meanwhile.
    if (selectedId) chat.newConversation();
  }, [chat, routeId, inList, selectedId]);

  // Asked once: a conversation made a moment ago elsewhere may not be in the list yet (the feed brings it).
  useEffect(() => {
    if (!unlisted || routeId === null) return;
    const controller = new AbortController();
    readConversation(api, routeId, controller.signal).then(
      () => undefined,
      () => !controller.signal.aborted && setMissing(routeId),
    );
    return () => controller.abort();
  }, [api, unlisted, routeId]);

  const link: LinkState = !unlisted ? 'ok' : missing === routeId ? 'unavailable' : 'checking';
  return { routeId, link, open, newChat };
}
