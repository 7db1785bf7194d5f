import { BackendError } from './types.js';
import { describeError } from './upstreamErrors.js';

/** Bounds on an image Jarvis fetches for a client (Ollama takes images inline, as base64). */
export const IMAGE_MAX_BYTES = 20 * 1024 * 1024;
export const IMAGE_FETCH_TIMEOUT_MS = 10_000;

const DATA_URL = /^data:image\/[\w.+-]+;base64,/i;

/**
 * An image part's URL as base64 bytes: a `data:` URL is unwrapped; an http(s) URL
 * is fetched, within IMAGE_MAX_BYTES and IMAGE_FETCH_TIMEOUT_MS, and aborted with
 * the stream. A URL that cannot be had is the client's problem: `invalid_request`.
 */
export async function imageAsBase64(url: string, signal: AbortSignal): Promise<string> {
  const data = DATA_URL.exec(url);
  if (data) {
    const base64 = url.slice(data[0].length);
    if (base64.length > (IMAGE_MAX_BYTES * 4) / 3 + 4) throw refused(`a data: image is larger than ${IMAGE_MAX_BYTES} bytes`);
    return base64;
  }
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(IMAGE_FETCH_TIMEOUT_MS)]), redirect: 'follow' });
  } catch (err) {
    if (signal.aborted) throw err;
    throw refused(`cannot fetch the image ${shortUrl(url)}: ${describeError(err)}`);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => {});
    throw refused(`fetching the image ${shortUrl(url)} answered HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > IMAGE_MAX_BYTES) {
    await res.body.cancel().catch(() => {});
    throw refused(`the image ${shortUrl(url)} is larger than ${IMAGE_MAX_BYTES} bytes`);
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      size += chunk.byteLength;
      if (size > IMAGE_MAX_BYTES) {
        await reader.cancel().catch(() => {});
        throw refused(`the image ${shortUrl(url)} is larger than ${IMAGE_MAX_BYTES} bytes`);
      }
      parts.push(chunk);
    }
  } catch (err) {
    if (err instanceof BackendError || signal.aborted) throw err;
    throw refused(`cannot read the image ${shortUrl(url)}: ${describeError(err)}`);
  }
  return Buffer.concat(parts).toString('base64');
}

function refused(message: string): BackendError {
  return new BackendError('invalid_request', message, {}, 400);
}

function shortUrl(url: string): string {
  return url.length > 120 ? `${url.slice(0, 117)}...` : url;
}
