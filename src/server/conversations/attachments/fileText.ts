import { httpError } from '../../errors.js';
import { namedAsText } from './fileKinds.js';

// A text file's text (docs/conversations.md "Attachments"): its bytes as UTF-8, refused
// when they are not (a binary file the model could not read anyway).

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export interface FileText {
  text: string;
  truncated: boolean;
}

export function textOf(name: string, mime: string, bytes: Uint8Array, maxChars: number): FileText {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw httpError('invalid_attachment', { name, why: notText(name, mime) });
  }
  // Valid UTF-8 can still be binary: a NUL is in no text file people write.
  if (text.includes('\u0000')) throw httpError('invalid_attachment', { name, why: notText(name, mime) });
  return cut(text, maxChars);
}

function notText(name: string, mime: string): string {
  const named = namedAsText(name, mime) ? 'it is named as text but ' : '';
  return `${named}it is not UTF-8 text, and Jarvis reads only text files (code, Markdown, CSV, JSON…), PDFs and images`;
}

/** At most `maxChars` characters (never half a surrogate pair), and whether any were cut. */
export function cut(text: string, maxChars: number): FileText {
  if (text.length <= maxChars) return { text, truncated: false };
  let end = maxChars;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return { text: text.slice(0, end), truncated: true };
}
