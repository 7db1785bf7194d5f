import { httpError } from '../../errors.js';

// An attachment arrives as a `data:` URL (what a browser's FileReader makes); the server
// decodes it once, here, and checks what the bytes are itself (the mime type is the sender's word).

export interface DecodedFile {
  /** The mime type the sender gave (lower-cased, without parameters); '' when none. */
  mime: string;
  bytes: Buffer;
}

const HEAD = /^data:([^,;]*)((?:;[^,;]*)*?);base64,/i;

/** The bytes of a base64 `data:` URL, or a 400 naming the file. */
export function decodeDataUrl(name: string, url: string): DecodedFile {
  const head = HEAD.exec(url.slice(0, 512));
  if (!head) throw httpError('invalid_attachment', { name, why: 'it is not sent as a base64 data: URL (data:<type>;base64,…)' });
  const body = url.slice(head[0].length);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 === 1) {
    throw httpError('invalid_attachment', { name, why: 'its data: URL is not valid base64' });
  }
  return { mime: (head[1] ?? '').trim().toLowerCase(), bytes: Buffer.from(body, 'base64') };
}
