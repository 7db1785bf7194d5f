// Keeps localStorage in step with the chat state, and takes in what other tabs change.

import { useCallback, useEffect, useRef } from 'react';
import {
  CONVERSATION_PREFIX,
  parseConversation,
  removeConversation,
  saveConversation,
  saveSelected,
} from '../lib/storage.js';
import type { ChatAction, ChatState } from '../state/conversations.js';

/** Writes are batched: a streaming answer changes many times a second. */
const SAVE_DELAY_MS = 250;

/**
 * Keeps localStorage in step with the state (debounced, flushed when the page hides),
 * and takes in conversations other tabs change, except the ones this tab is streaming into.
 */
export function usePersistence(
  state: ChatState,
  storage: Storage,
  tabStorage: Storage | undefined,
  dispatch: (action: ChatAction) => void,
  /** Conversations this tab is streaming into. */
  ownerRef: { readonly current: ReadonlyMap<string, unknown> },
): void {
  const savedRef = useRef(state.conversations);
  const latestRef = useRef(state.conversations);
  latestRef.current = state.conversations;

  const flush = useCallback(() => {
    const saved = savedRef.current;
    const current = latestRef.current;
    for (const [id, conversation] of Object.entries(current)) {
      if (saved[id] !== conversation) saveConversation(storage, conversation);
    }
    for (const id of Object.keys(saved)) if (!current[id]) removeConversation(storage, id);
    savedRef.current = current;
  }, [storage]);

  useEffect(() => {
    const timer = setTimeout(flush, SAVE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [state.conversations, flush]);

  useEffect(() => saveSelected(storage, tabStorage, state.selectedId), [storage, tabStorage, state.selectedId]);

  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.storageArea !== storage || !event.key?.startsWith(CONVERSATION_PREFIX)) return;
      const id = event.key.slice(CONVERSATION_PREFIX.length);
      if (ownerRef.current.has(id)) return; // we are writing this one: our version wins
      const conversation = event.newValue ? (parseConversation(event.newValue) ?? null) : null;
      // Record it as saved so that taking it in does not write it back (and echo between tabs).
      const { [id]: _old, ...others } = savedRef.current;
      savedRef.current = conversation ? { ...others, [id]: conversation } : others;
      dispatch({ type: 'external', id, conversation });
    };
    window.addEventListener('storage', onStorage);
    window.addEventListener('pagehide', flush);
    return () => {
      window.removeEventListener('storage', onStorage);
      window.removeEventListener('pagehide', flush);
      flush();
    };
  }, [storage, flush, dispatch, ownerRef]);
}
