// One message. An answer shows its state in words (not only colour), keeps whatever
// text it had when it was stopped or superseded, says which model wrote it and how
// fast, and offers Copy, Regenerate (the last one) and Retry on error. Your own
// messages can be edited and sent again. An edit or a regeneration is a new version:
// ‹ n/m › flips between them (docs/conversations.md "Branches").

import { memo, useEffect, useRef, useState, type ReactNode } from 'react';
import { useCopy } from '../../hooks/useCopy.js';
import type { AnswerState, AssistantMessage, Message, UserMessage } from '../../../../src/client/chat/types.js';
import { AnswerMeta, type AnswerStats } from './AnswerMeta.js';
import { PencilIcon } from '../shell/icons.js';
import { Markdown } from './Markdown.js';
import { StopVerdict } from './StopVerdict.js';
import { MessageAttachments } from './attachments/MessageAttachments.js';
import { VersionSwitcher } from './versions/VersionSwitcher.js';

const STATE_LABEL: Record<AnswerState, string> = {
  thinking: 'Thinking…',
  streaming: 'Answering…',
  done: '',
  stopped: 'Stopped',
  superseded: 'Superseded by a newer prompt',
  error: 'Failed',
};

const REASON_LABEL: Record<string, string> = {
  length: 'Cut off at the length limit',
  client_closed: 'Stopped: the connection closed',
  shutdown: 'Stopped: the server shut down',
  page_closed: 'Stopped: the page was closed while answering',
  interrupted: 'Interrupted: the server stopped while answering',
  revoked: 'Stopped: the key was revoked',
};

export interface MessageActions {
  onRetry?: ((id: string) => void) | undefined;
  /** Offered on the last answer only, once it has ended. */
  onRegenerate?: (() => void) | undefined;
  onEdit?: ((id: string, content: string) => void) | undefined;
  /** Shows another version of a message (null once shown, else why not). */
  onSwitchVersion?: ((id: string) => Promise<string | null>) | undefined;
  /** An answer streams in the conversation: versions cannot be switched. */
  busy?: boolean | undefined;
}

export const MessageView = memo(function MessageView({ message, onRetry, onRegenerate, onEdit, onSwitchVersion, busy = false }: { message: Message } & MessageActions) {
  const versions =
    onSwitchVersion && message.siblings && message.siblings.length > 1 ? (
      <VersionSwitcher messageId={message.id} versions={message.siblings} busy={busy} onSwitch={onSwitchVersion} of={message.role === 'user' ? 'prompt' : 'answer'} />
    ) : null;
  if (message.role === 'user') return <UserMessageView message={message} onEdit={onEdit} versions={versions} />;
  return <AnswerView message={message} onRetry={onRetry} onRegenerate={onRegenerate} versions={versions} />;
});

function AnswerView({ message, onRetry, onRegenerate, versions }: { message: AssistantMessage; onRetry?: MessageActions['onRetry']; onRegenerate?: MessageActions['onRegenerate']; versions: ReactNode }) {
  const { copied, copy } = useCopy();
  const live = message.state === 'thinking' || message.state === 'streaming';
  const stats = message as AssistantMessage & AnswerStats;
  const label = live && message.reconnecting
    ? 'Reconnecting…'
    : message.limitMessage ? `Cut off: ${message.limitMessage}` : (message.reason && REASON_LABEL[message.reason]) || STATE_LABEL[message.state];
  return (
    <article
      className={`message assistant state-${message.state}`}
      data-role="assistant"
      data-state={message.state}
      data-stream-id={message.streamId ?? ''}
      data-reconnecting={live && message.reconnecting ? 'true' : undefined}
      aria-label="Jarvis answered"
      aria-busy={live}
    >
      {message.reasoning ? <Reasoning text={message.reasoning} live={live} /> : null}
      {message.content ? (
        <div className="message-body">
          <Markdown text={message.content} />
        </div>
      ) : null}
      {message.state === 'thinking' ? (
        <div className="thinking" aria-hidden="true">
          <span className="dot" />
          <span className="dot" />
          <span className="dot" />
        </div>
      ) : null}
      {message.state === 'error' && message.error ? (
        <div className="error-box" role="alert">
          <p>{message.error.message}</p>
          {onRetry ? (
            <button type="button" className="small-button" onClick={() => onRetry(message.id)}>
              Retry
            </button>
          ) : null}
        </div>
      ) : null}
      <footer className="message-footer">
        {versions}
        {label ? (
          <span className={`state-badge badge-${live && message.reconnecting ? 'reconnecting' : message.state}`} role={message.reconnecting ? 'status' : undefined}>
            {label}
          </span>
        ) : null}
        {message.state === 'stopped' && message.stopVerdict ? <StopVerdict verdict={message.stopVerdict} /> : null}
        {!live ? <AnswerMeta model={message.model} usage={stats.usage} timings={stats.timings} /> : null}
        {message.content && !live ? (
          <button type="button" className="small-button ghost" onClick={() => copy(message.content)} aria-label={copied ? 'Answer copied' : 'Copy answer'}>
            {copied ? 'Copied' : 'Copy'}
          </button>
        ) : null}
        {onRegenerate && !live && message.state !== 'error' ? (
          <button type="button" className="small-button ghost" onClick={onRegenerate} title="Answer the last prompt again">
            Regenerate
          </button>
        ) : null}
      </footer>
    </article>
  );
}

function UserMessageView({ message, onEdit, versions }: { message: UserMessage; onEdit?: MessageActions['onEdit']; versions: ReactNode }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.content);
  const area = useRef<HTMLTextAreaElement>(null);
  const editButton = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(false);
  useEffect(() => {
    if (editing) {
      area.current?.focus();
      area.current?.select();
    } else if (wasEditing.current) {
      editButton.current?.focus(); // back where the keyboard was
    }
    wasEditing.current = editing;
  }, [editing]);

  if (editing && onEdit) {
    const submit = () => {
      const content = draft.trim();
      if (!content) return;
      setEditing(false);
      if (content !== message.content) onEdit(message.id, content);
    };
    return (
      <article className="message user editing" data-role="user" aria-label="Edit your message">
        <form
          className="edit-form"
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          <textarea
            ref={area}
            value={draft}
            rows={Math.min(10, draft.split('\n').length + 1)}
            aria-label="Edit message"
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
                e.preventDefault();
                submit();
              } else if (e.key === 'Escape') {
                e.preventDefault();
                setEditing(false);
              }
            }}
          />
          <p className="edit-hint">Sends it as a new version; the old one and its answers stay (‹ › switches between them).</p>
          <div className="edit-actions">
            <button type="button" className="small-button ghost" onClick={() => setEditing(false)}>
              Cancel
            </button>
            <button type="submit" className="small-button primary" disabled={!draft.trim()}>
              Send
            </button>
          </div>
        </form>
      </article>
    );
  }
  return (
    <article className="message user" data-role="user" data-message-id={message.id} aria-label="You said">
      <MessageAttachments attachments={message.attachments} />
      <div className="message-body plain">{message.content}</div>
      {onEdit ? (
        <button
          type="button"
          ref={editButton}
          className="icon-button edit-button"
          aria-label="Edit"
          title="Edit and send again"
          onClick={() => {
            setDraft(message.content);
            setEditing(true);
          }}
        >
          <PencilIcon />
        </button>
      ) : null}
      {versions}
    </article>
  );
}

/**
 * The model's reasoning, above its answer: open while the answer is live, so the
 * user sees the model working; a native <details>, so keyboard and screen readers
 * can open and close it.
 */
function Reasoning({ text, live }: { text: string; live: boolean }) {
  const [open, setOpen] = useState(live);
  return (
    <details className="reasoning" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Thinking</summary>
      <div className="reasoning-body" aria-live={live ? 'polite' : 'off'} tabIndex={0}>
        {text}
      </div>
    </details>
  );
}
