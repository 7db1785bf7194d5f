// One message. An answer shows its state in words (not only colour), keeps whatever
// text it had when it was stopped or superseded, and offers Copy, and Retry on error.

import { memo, useState } from 'react';
import { useCopy } from '../hooks/useCopy.js';
import type { AnswerState, Message } from '../state/types.js';
import { Markdown } from './Markdown.js';

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
};

export const MessageView = memo(function MessageView({ message, onRetry }: { message: Message; onRetry?: (id: string) => void }) {
  const { copied, copy } = useCopy();
  if (message.role === 'user') {
    return (
      <article className="message user" data-role="user" aria-label="You said">
        <div className="message-body plain">{message.content}</div>
      </article>
    );
  }
  const live = message.state === 'thinking' || message.state === 'streaming';
  const label = live && message.reconnecting ? 'Reconnecting…' : (message.reason && REASON_LABEL[message.reason]) || STATE_LABEL[message.state];
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
        {label ? (
          <span className={`state-badge badge-${live && message.reconnecting ? 'reconnecting' : message.state}`} role={message.reconnecting ? 'status' : undefined}>
            {label}
          </span>
        ) : null}
        {message.content && !live ? (
          <button type="button" className="small-button ghost" onClick={() => copy(message.content)} aria-label={copied ? 'Answer copied' : 'Copy answer'}>
            {copied ? 'Copied' : 'Copy'}
          </button>
        ) : null}
      </footer>
    </article>
  );
});

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
      <div className="reasoning-body" aria-live={live ? 'polite' : 'off'}>
        {text}
      </div>
    </details>
  );
}
