// The prompt box: Enter sends, Shift+Enter adds a line, Esc stops the answer.
// Sending while an answer streams is allowed: the new prompt supersedes it.
// Files come with the prompt (docs/conversations.md "Attachments"): picked with "Attach files",
// pasted, or dropped anywhere on the page.

import { forwardRef, useImperativeHandle, useLayoutEffect, useRef, useState, type ClipboardEvent, type FormEvent, type KeyboardEvent } from 'react';
import type { Api } from '../../../../src/client/api.js';
import type { AttachmentInputJson } from '../../../../src/shared/conversations.js';
import { PaperclipIcon } from './attachments/icons.js';
import { PendingAttachments } from './attachments/PendingAttachments.js';
import { useAttachments } from './attachments/useAttachments.js';
import { useModelCapabilities, visionWarning } from './attachments/useModelVision.js';

export interface ComposerHandle {
  focus(): void;
  setText(text: string): void;
}

interface ComposerProps {
  live: boolean;
  onSend(text: string, attachments?: AttachmentInputJson[]): void;
  onStop(): void;
  /** To ask whether `model` takes images; absent: no warning. */
  api?: Api;
  /** The model the prompt goes to (the conversation's, or the default). */
  model?: string;
}

export const Composer = forwardRef<ComposerHandle, ComposerProps>(function Composer({ live, onSend, onStop, api, model }, handle) {
  const [text, setText] = useState('');
  const area = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const files = useAttachments();
  const hasImage = files.files.some((f) => f.input.type === 'image');
  const capabilities = useModelCapabilities(api, model, hasImage);
  const warning = hasImage ? visionWarning(model, capabilities) : null;
  useImperativeHandle(handle, () => ({ focus: () => area.current?.focus(), setText }), []);

  // Grow with the text up to a limit, then scroll.
  useLayoutEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 220)}px`;
  }, [text]);

  const submit = () => {
    if (files.reading) return;
    if (!text.trim()) {
      if (files.files.length > 0) files.setProblem('Write a message to send with the files.');
      return;
    }
    onSend(text, files.files.length > 0 ? files.files.map((f) => f.input) : undefined);
    setText('');
    files.clear();
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
  // A pasted image (a screenshot) is attached; pasted text stays the browser's.
  const onPaste = (e: ClipboardEvent<HTMLTextAreaElement>) => {
    const pasted = Array.from(e.clipboardData.files);
    if (pasted.length === 0) return;
    e.preventDefault();
    files.add(pasted);
  };

  return (
    <div className={`composer-box${files.dragging ? ' dragging' : ''}`}>
      {files.problem ? (
        <p className="attachment-problem" role="alert">
          {files.problem}
        </p>
      ) : null}
      {warning ? (
        <p className="attachment-problem" role="alert" data-testid="vision-warning">
          {warning}
        </p>
      ) : null}
      <form className="composer" onSubmit={onSubmit}>
        <PendingAttachments files={files.files} onRemove={files.remove} />
        <button type="button" className="attach-button" aria-label="Attach files" title="Attach files (or paste or drop them)" onClick={() => picker.current?.click()}>
          <PaperclipIcon />
        </button>
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          aria-hidden="true"
          tabIndex={-1}
          onChange={(e) => {
            files.add(Array.from(e.target.files ?? []));
            e.target.value = '';
          }}
        />
        <textarea
          ref={area}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
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
          <button type="submit" className="send-button" disabled={!text.trim() || files.reading} aria-label="Send">
            Send
          </button>
        </div>
        <p id="composer-hint" className="visually-hidden">
          Enter sends, Shift+Enter adds a new line, Escape stops the answer. Files can be attached, pasted or dropped.
        </p>
      </form>
    </div>
  );
});
