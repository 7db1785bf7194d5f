import type { AttachmentInputJson, AttachmentJson } from '../shared/conversations.js';
import { dataUrlSize } from '../shared/dataUrl.js';

// A prompt's files in the client (docs/conversations.md "Attachments"): sent as data: URLs,
// shown at once in the sent message the way the server will store them (a file's text is
// the server's to read, so the tab shows its name and size until the conversation is read again).

function mimeOf(url: string): string {
  return /^data:([^;,]*)/.exec(url)?.[1] ?? '';
}

/** How a file being sent shows in its message before the server's copy is read. */
export function shownAttachment(input: AttachmentInputJson): AttachmentJson {
  const common = { name: input.name, mime: mimeOf(input.data_url), size: dataUrlSize(input.data_url) };
  return input.type === 'image' ? { type: 'image', ...common, data_url: input.data_url } : { type: 'file', ...common, text: '' };
}
