import type { AttachmentInputJson, AttachmentJson } from '../shared/conversations.js';

// A prompt's files in the client (docs/conversations.md "Attachments"): sent as data: URLs,
// shown at once in the sent message the way the server will store them (a file's text is
// the server's to read, so the tab shows its name and size until the conversation is read again).

/** The decoded size of a base64 data: URL, from its length. */
export function dataUrlSize(url: string): number {
  const comma = url.indexOf(',');
  if (comma === -1) return 0;
  let length = url.length - comma - 1;
  while (length > 0 && url.charCodeAt(comma + length) === 61 /* = */) length--;
  return Math.floor((length * 3) / 4);
}

function mimeOf(url: string): string {
  return /^data:([^;,]*)/.exec(url)?.[1] ?? '';
}

/** How a file being sent shows in its message before the server's copy is read. */
export function shownAttachment(input: AttachmentInputJson): AttachmentJson {
  const common = { name: input.name, mime: mimeOf(input.data_url), size: dataUrlSize(input.data_url) };
  return input.type === 'image' ? { type: 'image', ...common, data_url: input.data_url } : { type: 'file', ...common, text: '' };
}
