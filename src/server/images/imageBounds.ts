import { dataUrlBytes, isDataUrl } from '../../backends/images/dataUrl.js';
import type { BackendRequest } from '../../backends/types.js';
import type { ImageConfig } from '../../config.js';
import { httpError } from '../errors.js';

// The bounds on a request's images that need no fetch (docs/security.md "Images in
// requests"): checked when the request is validated, before any image is fetched or
// decoded, so a request of ten thousand image parts costs a count, not ten thousand GETs.

/** An image part of a request, in order, with its place among the request's images (1-based). */
export interface ImageRef {
  url: string;
  ordinal: number;
}

/** What the checks found: the http(s) images to fetch and the bytes the data: ones already take. */
export interface ImagePlan {
  urls: ImageRef[];
  dataBytes: number;
}

export function mib(bytes: number): string {
  const value = bytes / 2 ** 20;
  return `${Number.isInteger(value) ? value : value.toFixed(1)} MiB`;
}

/**
 * Counts the request's images and the decoded size of its data: URLs, and refuses
 * the request (400/413) when it has too many, a data: image too large, too many
 * bytes of them together, or an http(s) URL while fetching is off. Returns what is
 * left to fetch.
 */
export function checkImageBounds(request: BackendRequest, config: ImageConfig): ImagePlan {
  const plan: ImagePlan = { urls: [], dataBytes: 0 };
  let count = 0;
  for (const message of request.messages) {
    if (typeof message.content === 'string') continue;
    for (const part of message.content) if (part.type === 'image') count++;
  }
  if (count === 0) return plan;
  if (count > config.perRequest) {
    throw httpError('too_many_images', { count, max: config.perRequest });
  }
  let ordinal = 0;
  for (const message of request.messages) {
    if (typeof message.content === 'string') continue;
    for (const part of message.content) {
      if (part.type !== 'image') continue;
      ordinal++;
      if (!isDataUrl(part.url)) {
        if (config.fetch === 'off') {
          throw httpError('image_urls_disabled', { ordinal });
        }
        plan.urls.push({ url: part.url, ordinal });
        continue;
      }
      const bytes = dataUrlBytes(part.url);
      if (bytes > config.maxBytes) {
        throw httpError('image_too_large', { ordinal, size: mib(bytes), max: mib(config.maxBytes) });
      }
      plan.dataBytes += bytes;
      if (plan.dataBytes > config.maxRequestBytes) {
        throw httpError('image_too_large', { total: mib(config.maxRequestBytes) });
      }
    }
  }
  return plan;
}
