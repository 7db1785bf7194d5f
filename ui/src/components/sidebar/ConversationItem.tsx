// One entry of the conversation list, with rename (inline) and delete (asks first,
// inline too: a browser confirm() dialog would block the page).

import { useEffect, useRef, useState } from 'react';
import type { Conversation } from '../../../../src/client/chat/types.js';
import { PencilIcon, TrashIcon } from '../shell/icons.js';

type Mode = 'view' | 'rename' | 'confirm-delete';

export function ConversationItem({ conversation, selected, live, onSelect, onRename, onDelete }: {
  conversation: Conversation;
  selected: boolean;
  live: boolean;
  onSelect(): void;
  onRename(title: string): void;
  onDelete(): void;
}) {
  const [mode, setMode] = useState<Mode>('view');
  const [draft, setDraft] = useState(conversation.title);
  const input = useRef<HTMLInputElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (mode === 'rename') input.current?.select();
    if (mode === 'confirm-delete') cancelButton.current?.focus();
  }, [mode]);

  const title = conversation.title;
  if (mode === 'rename') {
    const commit = () => {
      if (draft.trim()) onRename(draft);
      setMode('view');
    };
    return (
      <li className="conversation editing">
        <input
          ref={input}
          value={draft}
          maxLength={120}
          aria-label="Conversation name"
          onChange={(e) => setDraft(e.target.value)}
          onBlur={commit}
          onKeyDown={(e) => {
            if (e.key === 'Enter') commit();
            if (e.key === 'Escape') {
              e.preventDefault(); // cancels the rename only, not also a streaming answer (hooks/useShortcuts.ts)
              setMode('view');
            }
          }}
        />
      </li>
    );
  }
  if (mode === 'confirm-delete') {
    return (
      <li className="conversation confirming" role="group" aria-label={`Delete "${title}"?`}>
        <span className="confirm-text">Delete “{title}”?</span>
        <button type="button" className="small-button danger" onClick={onDelete}>
          Delete
        </button>
        <button type="button" ref={cancelButton} className="small-button ghost" onClick={() => setMode('view')}>
          Cancel
        </button>
      </li>
    );
  }
  return (
    <li className={`conversation${selected ? ' selected' : ''}`} data-conversation-id={conversation.id}>
      <button type="button" className="conversation-select" title={title} onClick={onSelect} aria-current={selected ? 'page' : undefined}>
        {live ? <span className="live-dot" aria-label="answering" /> : null}
        <span className="conversation-title">{title}</span>
      </button>
      <button type="button" className="icon-button" aria-label={`Rename "${title}"`} onClick={() => { setDraft(title); setMode('rename'); }}>
        <PencilIcon />
      </button>
      <button type="button" className="icon-button" aria-label={`Delete "${title}"`} onClick={() => setMode('confirm-delete')}>
        <TrashIcon />
      </button>
    </li>
  );
}
