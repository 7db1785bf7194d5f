// A user message's files (docs/conversations.md "Attachments"): images as thumbnails that open
// full size, other files as chips with their name and size (and whether their text was cut).

import { useRef, useState } from 'react';
import type { AttachmentJson } from '../../../../../src/shared/conversations.js';
import { CloseIcon, FileIcon } from './icons.js';
import { formatSize } from './readFiles.js';
import './attachments.css';

export function MessageAttachments({ attachments }: { attachments: AttachmentJson[] | undefined }) {
  const [open, setOpen] = useState<{ name: string; url: string } | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLButtonElement | null>(null);
  if (!attachments || attachments.length === 0) return null;
  const show = (a: { name: string; data_url: string }, button: HTMLButtonElement) => {
    opener.current = button;
    setOpen({ name: a.name, url: a.data_url });
    // The dialog is in the page already: showModal gives it focus and the Escape key.
    queueMicrotask(() => dialog.current?.showModal());
  };
  const close = () => {
    dialog.current?.close();
  };
  return (
    <div className="message-attachments" data-testid="message-attachments">
      <ul aria-label="Attached files">
        {attachments.map((a, i) =>
          a.type === 'image' ? (
            <li key={i} className="attachment-thumb">
              <button type="button" className="attachment-open" aria-label={`Open ${a.name} full size`} onClick={(e) => show(a, e.currentTarget)}>
                <img src={a.data_url} alt={a.name} />
              </button>
            </li>
          ) : (
            <li key={i} className="attachment-chip" title={a.truncated ? `${a.name}: only its first part was sent to the model` : a.name}>
              <FileIcon />
              <span className="attachment-name">{a.name}</span>
              <span className="attachment-size">
                {formatSize(a.size)}
                {a.truncated ? ', cut' : ''}
              </span>
            </li>
          ),
        )}
      </ul>
      <dialog
        ref={dialog}
        className="image-viewer"
        aria-label={open?.name ?? 'Image'}
        onClose={() => {
          setOpen(null);
          opener.current?.focus();
        }}
        onClick={(e) => e.target === dialog.current && close()}
      >
        {open ? (
          <>
            <img src={open.url} alt={open.name} />
            <button type="button" className="image-viewer-close" aria-label="Close image" onClick={close}>
              <CloseIcon />
            </button>
          </>
        ) : null}
      </dialog>
    </div>
  );
}
