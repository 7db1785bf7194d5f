// The prompt box: Enter sends, Shift+Enter adds a line, Esc stops the answer.
// Sending while an answer streams is allowed: the new prompt supersedes it.

import { forwardRef, useImperativeHandle, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';

export interface ComposerHandle {
  focus(): void;
  setText(text: string): void;
}

export const Composer = forwardRef<ComposerHandle, { live: boolean; onSend(text: string): void; onStop(): void }>(function Composer(
  { live, onSend, onStop },
  handle,
) {
  const [text, setText] = useState('');
  const area = useRef<HTMLTextAreaElement>(null);
  useImperativeHandle(handle, () => ({ focus: () => area.current?.focus(), setText }), []);

  // Grow with the text up to a limit, then scroll.
  useLayoutEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 220)}px`;
  }, [text]);

  const submit = () => {
    if (!text.trim()) return;
    onSend(text);
    setText('');
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    // isComposing: Enter that confirms an IME candidate (Japanese, Chinese…) must not send.
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    } else if (e.key === 'Escape' && live) {
      e.preventDefault();
      onStop();
    }
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    submit();
  };

  return (
    <form className="composer" onSubmit={onSubmit}>
      <textarea
        ref={area}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        rows={1}
        placeholder="Message Jarvis…"
        aria-label="Message"
        aria-describedby="composer-hint"
        autoFocus
      />
      <div className="composer-actions">
        {live ? (
          <button type="button" className="stop-button" onClick={() => onStop()} aria-label="Stop answering">
            <span aria-hidden="true">■</span> Stop
          </button>
        ) : null}
        <button type="submit" className="send-button" disabled={!text.trim()} aria-label="Send">
          Send
        </button>
      </div>
      <p id="composer-hint" className="visually-hidden">
        Enter sends, Shift+Enter adds a new line, Escape stops the answer.
      </p>
    </form>
  );
});
