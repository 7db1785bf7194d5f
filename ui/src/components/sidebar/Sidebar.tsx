// The conversation list, with search, export and import. On a phone it is a drawer over the chat.

import { useEffect, useRef } from 'react';
import { isLive, useChat } from '../../contexts/ChatContext.js';
import type { Api } from '../../../../src/client/api.js';
import { ConversationItem } from './ConversationItem.js';
import { CloseIcon } from '../shell/icons.js';
import { LibraryActions, SearchBox, SearchResults, useLibrary } from './Library.js';

export function Sidebar({ api, open, onClose }: { api: Api; open: boolean; onClose(): void }) {
  const chat = useChat();
  const library = useLibrary(api);
  const searching = library.query.trim() !== '';
  const first = useRef<HTMLButtonElement>(null);
  // Opening the drawer moves the keyboard into it; Escape (or the backdrop) closes it.
  useEffect(() => {
    if (open) first.current?.focus();
  }, [open]);
  return (
    <>
      <aside
        id="sidebar"
        className={`sidebar${open ? ' open' : ''}`}
        aria-label="Conversations"
        onKeyDown={(e) => {
          if (e.key === 'Escape' && open) onClose();
        }}
      >
        <div className="sidebar-head">
          <span className="brand" aria-hidden="true">Jarvis</span>
          <button type="button" ref={first} className="new-chat" onClick={() => { chat.newConversation(); onClose(); }}>
            + New chat
          </button>
          <button type="button" className="icon-button drawer-close" aria-label="Close conversations" onClick={onClose}>
            <CloseIcon />
          </button>
        </div>
        <SearchBox value={library.query} onChange={library.setQuery} />
        {searching ? (
          <SearchResults query={library.query} search={library.search} selectedId={chat.selected?.id ?? null} onSelect={(id) => { chat.select(id); onClose(); }} />
        ) : null}
        {!searching && chat.conversations.length === 0 ? <p className="sidebar-empty">{chat.listed ? 'No conversations yet.' : 'Loading conversations…'}</p> : null}
        <ul className="conversation-list" hidden={searching}>
          {chat.conversations.map((c) => (
            <ConversationItem
              key={c.id}
              conversation={c}
              selected={chat.selected?.id === c.id}
              live={isLive(c)}
              onSelect={() => { chat.select(c.id); onClose(); }}
              onRename={(title) => chat.rename(c.id, title)}
              onDelete={() => chat.remove(c.id)}
            />
          ))}
        </ul>
        <LibraryActions api={api} />
      </aside>
      {open ? <div className="backdrop" onClick={onClose} aria-hidden="true" /> : null}
    </>
  );
}
