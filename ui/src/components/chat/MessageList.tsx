// The conversation's messages (its current branch), following the newest answer while the
// reader is at the bottom.

import { useCallback } from 'react';
import type { Conversation, Message } from '../../../../src/client/chat/types.js';
import { isLive, useChat } from '../../contexts/ChatContext.js';
import { useAutoScroll } from '../../hooks/useAutoScroll.js';
import { MessageView } from './MessageView.js';

/**
 * A message's place in the branch rather than its id: switching versions swaps the message in
 * that place, and the same element stays (the keyboard's focus stays on ‹ or ›).
 */
function placeOf(m: Message): string {
  return m.parentId !== undefined ? `${m.role}:after:${m.parentId ?? 'start'}` : m.id;
}

const ANNOUNCE: Record<string, string> = {
  thinking: 'Jarvis is thinking',
  done: 'Jarvis finished answering',
  stopped: 'Answer stopped',
  superseded: 'Answer superseded',
  error: 'The answer failed',
};

export function MessageList({ conversation, onRetry, onRegenerate, onEdit, onSuggestion }: {
  conversation: Conversation | null;
  onRetry: (messageId: string) => void;
  onRegenerate?: () => void;
  onEdit?: (messageId: string, content: string) => void;
  onSuggestion: (text: string) => void;
}) {
  const messages = conversation?.messages ?? [];
  const last = messages.at(-1);
  const { ref, following, scrollToBottom } = useAutoScroll<HTMLDivElement>(
    `${messages.length}:${last?.content.length}:${last?.role === 'assistant' ? last.state : ''}`,
    // A new conversation, or a new prompt, brings the reader to the end.
    `${conversation?.id}:${messages.filter((m) => m.role === 'user').length}`,
  );
  const lastState = last?.role === 'assistant' ? last.state : undefined;
  const { switchVersion } = useChat();
  const conversationId = conversation?.id;
  const onSwitchVersion = useCallback(
    (messageId: string) => (conversationId ? switchVersion(conversationId, messageId) : Promise.resolve(null)),
    [conversationId, switchVersion],
  );
  const busy = isLive(conversation);

  return (
    <div className="messages-pane">
      <div className="message-scroller" ref={ref}>
      <div className="message-column" role="log" aria-label="Messages" aria-live="off">
        {messages.length === 0 ? (
          <div className="empty">
            <h2>What can I help with?</h2>
            <p>Enter sends · Shift+Enter starts a new line · Esc stops an answer</p>
            <div className="suggestions">
              {['Explain what Jarvis is in two sentences', 'Write a haiku about streaming', 'Show a TypeScript function that reverses a string'].map((s) => (
                <button key={s} type="button" className="suggestion" onClick={() => onSuggestion(s)}>
                  {s}
                </button>
              ))}
            </div>
          </div>
        ) : (
          messages.map((m) => (
            <MessageView
              key={placeOf(m)}
              message={m}
              onRetry={onRetry}
              onEdit={onEdit}
              onRegenerate={m === last && m.role === 'assistant' ? onRegenerate : undefined}
              onSwitchVersion={onSwitchVersion}
              busy={busy}
            />
          ))
        )}
      </div>
      </div>
      {/* Announces state changes only: reading every token aloud would be unusable. */}
      <div className="visually-hidden" role="status" aria-live="polite">
        {lastState ? ANNOUNCE[lastState] ?? '' : ''}
      </div>
      {!following ? (
        <button type="button" className="jump-button" onClick={scrollToBottom} aria-label="Scroll to the newest message">
          ↓ Latest
        </button>
      ) : null}
    </div>
  );
}
