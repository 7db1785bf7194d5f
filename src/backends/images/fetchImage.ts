import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { describeError } from '../upstream/upstreamErrors.js';
import { RefusedAddressError, type AddressGuard } from './address.js';
import { sniffImageType } from './sniff.js';

// One image fetched for a client (docs/security.md "Images in requests"): only from
// an address the guard allows (checked on every hop, redirects followed by hand),
// only an image (Content-Type image/* and an image's signature), within a byte bound
// and one timeout that covers connect, headers, redirects and the whole body.

export interface ImageFetchOptions {
  guard: AddressGuard;
  /** The most bytes this image may have (its own bound, or what is left of its request's). */
  maxBytes: number;
  /** Connect, redirects, headers and body together. */
  timeoutMs: number;
  maxRedirects: number;
}

export interface FetchedImage {
  /** The type the bytes' signature says (`image/png`…). */
  type: string;
  bytes: Buffer;
}

/** Why a fetch failed, for the log only: the client is told the same thing whatever it was. */
export class ImageFetchError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'ImageFetchError';
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const TIMED_OUT = Symbol('image fetch timed out');

/**
 * Fetches the image at `url`, or throws an ImageFetchError. The timeout is a plain
 * timer held by the event loop until `finally` clears it: `AbortSignal.timeout`
 * inside `AbortSignal.any` can be garbage-collected on Node 20 before it fires,
 * which once let a slow image hold a request for 60 s instead of 10.
 */
export async function fetchImage(url: string, options: ImageFetchOptions, signal: AbortSignal): Promise<FetchedImage> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(TIMED_OUT), options.timeoutMs);
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  try {
    let current = new URL(url);
    for (let hop = 0; ; hop++) {
      const res = await get(current, options.guard, controller.signal);
      const status = res.statusCode ?? 0;
      if (!REDIRECTS.has(status)) return await readImage(res, options.maxBytes, controller.signal);
      res.destroy();
      if (hop >= options.maxRedirects) throw new ImageFetchError(`more than ${options.maxRedirects} redirects`);
      current = nextHop(current, res.headers.location);
    }
  } catch (err) {
    if (controller.signal.reason === TIMED_OUT) throw new ImageFetchError(`no complete answer within ${options.timeoutMs} ms`);
    if (signal.aborted) throw new ImageFetchError('the client went away');
    if (err instanceof ImageFetchError) throw err;
    throw new ImageFetchError(describeError(err));
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

function nextHop(from: URL, location: string | undefined): URL {
  if (!location) throw new ImageFetchError('a redirect without a Location');
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new ImageFetchError(`a redirect to ${JSON.stringify(location.slice(0, 200))}, which is no URL`);
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new ImageFetchError(`a redirect to a ${next.protocol} URL`);
  return next;
}

/**
 * One GET, connected only where the guard allows: an address in the URL is checked
 * here (Node does not look up an IP literal), a name in the socket's own lookup; a
 * name on the allow-list may go wherever it resolves. A fresh connection each time
 * (`agent: false`): no pooled socket outlives the check that let it connect.
 */
function get(url: URL, guard: AddressGuard, signal: AbortSignal): Promise<IncomingMessage> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new ImageFetchError(`a ${url.protocol} URL`));
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = isIP(host) !== 0;
  const named = !literal && guard.nameAllowed(host);
  if (literal && !guard.addressAllowed(host)) return Promise.reject(new RefusedAddressError(host, host));
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: 'GET',
        agent: false,
        signal,
        headers: { accept: 'image/*', 'user-agent': 'Jarvis (image for a chat request)' },
        ...(literal || named ? {} : { lookup: guard.lookup() }),
      },
      resolve,
    );
    req.on('error', reject);
    req.end();
  });
}

async function readImage(res: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<FetchedImage> {
  const fail = (reason: string): never => {
    res.destroy();
    throw new ImageFetchError(reason);
  };
  if (res.statusCode !== 200) fail(`answered HTTP ${res.statusCode}`);
  const declaredType = (res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!declaredType.startsWith('image/')) fail(`answered Content-Type ${declaredType || '(none)'}, not an image`);
  const declared = Number(res.headers['content-length'] ?? NaN);
  if (declared > maxBytes) fail(`declared ${declared} bytes, more than the ${maxBytes} it may have`);
  const parts: Buffer[] = [];
  let size = 0;
  // The request's signal ends the socket; this ends the body's iteration at once too.
  const onAbort = () => res.destroy(new Error('aborted'));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > maxBytes) fail(`sent more than the ${maxBytes} bytes it may have`);
      parts.push(chunk);
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (!res.complete) fail('the body ended early');
  const bytes = Buffer.concat(parts, size);
  const type = sniffImageType(bytes.subarray(0, 16));
  if (!type) fail(`the body (${declaredType}) does not start like png, jpeg, gif, webp, bmp, tiff, avif or heic`);
  return { type: type!, bytes };
}
