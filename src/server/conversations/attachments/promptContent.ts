import type { ContentPart } from '../../../backends/types.js';
import type { StoredAttachment, StoredMessage } from '../../../store/types.js';
import { extensionOf } from './fileKinds.js';

// What the model gets of a message with files (docs/conversations.md "Attachments"), as Open
// WebUI's and LibreChat's "upload as text" give it: the prompt, then each file's text under
// its name in a fenced block; the images as image parts, which each backend sends its own way
// (Ollama: the message's `images`; OpenAI-compatible servers: `image_url` parts).

/** The message's content for the model: its text alone when it has no images, else text and image parts. */
export function promptContent(message: Pick<StoredMessage, 'content' | 'attachments'>): string | ContentPart[] {
  const attachments = message.attachments ?? [];
  const text = withFiles(message.content, attachments);
  const images = attachments.filter((a) => a.type === 'image');
  if (images.length === 0) return text;
  return [{ type: 'text', text }, ...images.map((a): ContentPart => ({ type: 'image', url: a.data_url }))];
}

/** The prompt, then every text file under its name, each in a fence longer than any backtick run in it. */
export function withFiles(content: string, attachments: StoredAttachment[]): string {
  let text = content;
  for (const file of attachments) {
    if (file.type !== 'file') continue;
    const fence = '`'.repeat(Math.max(3, longestBacktickRun(file.text) + 1));
    const cut = file.truncated ? ` (only its first ${file.text.length.toLocaleString('en-US')} characters)` : '';
    const kind = file.mime === 'application/pdf' ? ' (the text of a PDF)' : '';
    text += `\n\n${file.name}${kind}${cut}:\n${fence}${language(file.name)}\n${file.text}\n${fence}`;
  }
  return text;
}

function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return longest;
}

/** The fence's info string: the extension, when it is one a Markdown reader knows as a language (csv, py, ts…). */
function language(name: string): string {
  const ext = extensionOf(name);
  return /^[a-z0-9+#-]{1,12}$/.test(ext) && ext !== 'txt' && ext !== 'pdf' && ext !== name.toLowerCase() ? ext : '';
}
