// The conversation list, with search, export and import. On a phone it is a drawer over the chat.

import { useEffect, useRef, type ReactNode } from 'react';
import { isLive, useChat } from '../../contexts/ChatContext.js';
import type { Api } from '../../../../src/client/api.js';
import { ConversationItem } from './ConversationItem.js';
import { CloseIcon } from '../shell/icons.js';
import { LibraryActions, SearchBox, SearchResults, useLibrary } from './Library.js';

export function Sidebar({ api, open, searchRequest, onOpen, onNewChat, onClose, footer }: {
  api: Api;
  open: boolean;
  /** Bumped by the search shortcut (Ctrl/⌘+K): the search box takes the keyboard. */
  searchRequest: number;
  /** Opens a conversation (its address goes in the URL: hooks/useConversationUrl.ts). */
  onOpen(id: string): void;
  onNewChat(): void;
  onClose(): void;
  /** Under the list's tools: who is signed in (components/shell/Account.tsx). */
  footer?: ReactNode;
}) {
  const chat = useChat();
  const library = useLibrary(api);
  const searching = library.query.trim() !== '';
  const first = useRef<HTMLButtonElement>(null);
  // Opening the drawer moves the keyboard into it; Escape (or the backdrop) closes it.
  useEffect(() => {
    if (open) first.current?.focus();
  }, [open]);
  const search = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (searchRequest > 0) search.current?.focus();
  }, [searchRequest]);
  return (
    <>
      <aside
        id="sidebar"
        className={`sidebar${open ? ' open' : ''}`}
        aria-label="Conversations"
        onKeyDown={(e) => {
          if (e.key === 'Escape' && open) {
            e.preventDefault(); // this Esc closes the drawer; it does not also stop an answer
            onClose();
          }
        }}
      >
        <div className="sidebar-head">
          <span className="brand" aria-hidden="true">Jarvis</span>
          <button type="button" ref={first} className="new-chat" onClick={() => { onNewChat(); onClose(); }}>
            + New chat
          </button>
          <button type="button" className="icon-button drawer-close" aria-label="Close conversations" onClick={onClose}>
            <CloseIcon />
          </button>
        </div>
        <SearchBox ref={search} value={library.query} onChange={library.setQuery} />
        {searching ? (
          <SearchResults query={library.query} search={library.search} selectedId={chat.selected?.id ?? null} onSelect={(id) => { onOpen(id); onClose(); }} />
        ) : null}
        {!searching && chat.conversations.length === 0 ? <p className="sidebar-empty">{chat.listed ? 'No conversations yet.' : 'Loading conversations…'}</p> : null}
        <ul className="conversation-list" hidden={searching}>
          {chat.conversations.map((c) => (
            <ConversationItem
              key={c.id}
              conversation={c}
              selected={chat.selected?.id === c.id}
              live={isLive(c)}
              onSelect={() => { onOpen(c.id); onClose(); }}
              onRename={(title) => chat.rename(c.id, title)}
              onDelete={() => chat.remove(c.id)}
            />
          ))}
        </ul>
        <LibraryActions api={api} />
        {footer}
      </aside>
      {open ? <div className="backdrop" onClick={onClose} aria-hidden="true" /> : null}
    </>
  );
}
