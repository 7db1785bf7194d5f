// The files attached to the prompt being written: a thumbnail for an image, a chip with the
// name and size for any other file, each with its own Remove button.

import { CloseIcon, FileIcon } from './icons.js';
import { formatSize, type PendingFile } from './readFiles.js';
import './attachments.css';

export function PendingAttachments({ files, onRemove }: { files: PendingFile[]; onRemove(key: string): void }) {
  if (files.length === 0) return null;
  return (
    <ul className="pending-attachments" aria-label="Attached files">
      {files.map((f) => (
        <li key={f.key} className={f.input.type === 'image' ? 'attachment-thumb' : 'attachment-chip'} data-testid="pending-attachment">
          {f.input.type === 'image' ? (
            <img src={f.input.data_url} alt={f.input.name} title={`${f.input.name}, ${formatSize(f.size)}`} />
          ) : (
            <>
              <FileIcon />
              <span className="attachment-name">{f.input.name}</span>
              <span className="attachment-size">{formatSize(f.size)}</span>
            </>
          )}
          <button type="button" className="attachment-remove" aria-label={`Remove ${f.input.name}`} title={`Remove ${f.input.name}`} onClick={() => onRemove(f.key)}>
            <CloseIcon />
          </button>
        </li>
      ))}
    </ul>
  );
}
