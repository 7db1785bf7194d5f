import type { ContentPart } from '../../../backends/types.js';
import type { StoredMessage } from '../../../store/types.js';

// What the model gets of a user message with files (docs/conversations.md "Attachments"):
// its text, each text file after it under its name in a fenced block (as Open WebUI and
// LibreChat do when a file is given "as text"), and its images as image parts.

export function promptContent(message: Pick<StoredMessage, 'content' | 'attachments'>): string | ContentPart[] {
  const attachments = message.attachments ?? [];
  if (attachments.length === 0) return message.content;
  let text = message.content;
  const images: ContentPart[] = [];
  for (const a of attachments) {
    if (a.type === 'image') images.push({ type: 'image', url: a.data_url });
    else text += `\n\n${a.name}:\n${fence(a.text)}\n${a.text}\n${fence(a.text)}`;
  }
  return images.length === 0 ? text : [{ type: 'text', text }, ...images];
}

/** A fence longer than any run of backticks in the text, so the file cannot close it early. */
function fence(text: string): string {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return '`'.repeat(Math.max(3, longest + 1));
}
