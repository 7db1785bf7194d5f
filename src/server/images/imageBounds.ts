import { dataUrlBytes, isDataUrl } from '../../backends/images/dataUrl.js';
import type { BackendRequest } from '../../backends/types.js';
import type { ImageConfig } from '../../config.js';
import { HttpError } from '../errors.js';

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
    throw new HttpError(400, 'too_many_images', `this request has ${count} images; Jarvis takes at most ${config.perRequest} per request (JARVIS_IMAGES_PER_REQUEST)`);
  }
  let ordinal = 0;
  for (const message of request.messages) {
    if (typeof message.content === 'string') continue;
    for (const part of message.content) {
      if (part.type !== 'image') continue;
      ordinal++;
      if (!isDataUrl(part.url)) {
        if (config.fetch === 'off') {
          throw new HttpError(400, 'image_urls_disabled', `image ${ordinal} of this request is an http(s) URL; this Jarvis takes images only as data: URLs (data:image/png;base64,…)`);
        }
        plan.urls.push({ url: part.url, ordinal });
        continue;
      }
      const bytes = dataUrlBytes(part.url);
      if (bytes > config.maxBytes) {
        throw new HttpError(413, 'image_too_large', `image ${ordinal} of this request is ${mib(bytes)}; Jarvis takes images of up to ${mib(config.maxBytes)} (JARVIS_IMAGE_MAX_BYTES)`);
      }
      plan.dataBytes += bytes;
      if (plan.dataBytes > config.maxRequestBytes) {
        throw new HttpError(413, 'image_too_large', `the images of this request are more than ${mib(config.maxRequestBytes)} together, the most Jarvis takes per request (JARVIS_IMAGE_MAX_REQUEST_BYTES)`);
      }
    }
  }
  return plan;
}
