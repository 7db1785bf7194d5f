import { dataUrlSize } from '../../shared/dataUrl.js';
import { BackendError } from '../types.js';
import type { FetchedImage } from './fetchImage.js';

const DATA_URL = /^data:image\/[\w.+-]+;base64,/i;

/** Whether `url` is a `data:image/…;base64,` URL (the only form Jarvis never fetches). */
export function isDataUrl(url: string): boolean {
  return DATA_URL.test(url);
}

/** The bytes a data: URL's base64 decodes to, from its length alone (nothing is decoded). */
export function dataUrlBytes(url: string): number {
  return DATA_URL.test(url) ? dataUrlSize(url) : 0;
}

/** A fetched image as the data: URL the backends take. */
export function toDataUrl(image: FetchedImage): string {
  return `data:${image.type};base64,${image.bytes.toString('base64')}`;
}

/**
 * An image part's base64 bytes, for an upstream that takes images inline (Ollama).
 * Only data: URLs get here: the server fetched every http(s) image before the
 * stream started (src/server/images/), within its bounds; one that did not is a bug.
 */
export function imageAsBase64(url: string): string {
  const data = DATA_URL.exec(url);
  if (!data) throw new BackendError('invalid_request', 'an image URL reached the Ollama backend unfetched; send it as a data: URL');
  return url.slice(data[0].length);
}
