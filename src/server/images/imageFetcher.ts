import type { FastifyReply, FastifyRequest } from 'fastify';
import { AddressGuard } from '../../backends/images/address.js';
import { toDataUrl } from '../../backends/images/dataUrl.js';
import { fetchImage, ImageFetchError } from '../../backends/images/fetchImage.js';
import type { Backend, BackendMessage, BackendRequest } from '../../backends/types.js';
import type { ImageConfig } from '../../config.js';
import type { SystemLog } from '../../log/systemLog.js';
import { clientGoneSignal } from '../http/clientGone.js';
import { httpError } from '../errors.js';
import { clientKeyOf } from '../http/guards/clientKey.js';
import { principalOf } from '../http/guards/principal.js';
import { checkImageBounds, mib } from './imageBounds.js';
import { ImageFetchGate } from './imageFetchGate.js';

/**
 * The images of chat requests (docs/security.md "Images in requests"): every request's
 * images are checked against the bounds; for a backend that takes images inline
 * (Ollama), Jarvis fetches the http(s) ones, before the stream starts, so a failure
 * is a plain HTTP error and never supersedes the session's running answer. An
 * OpenAI-compatible upstream gets http(s) URLs as they are and fetches them itself.
 */
export class ImageFetcher {
  private readonly guard: AddressGuard;
  private readonly gate: ImageFetchGate;
  /** The one text of every failed fetch: the cause (closed port, refused address…) is only logged, so it is no port scanner. */
  private readonly policy: string;

  constructor(
    private readonly config: ImageConfig,
    private readonly log: SystemLog,
  ) {
    this.guard = new AddressGuard(config.fetch, config.allow);
    this.gate = new ImageFetchGate(config);
    const which = config.fetch === 'allowlist' ? 'images only from the hosts its operator allows' : 'only public http(s) images';
    this.policy = `Jarvis fetches ${which}, of up to ${mib(config.maxBytes)}, that arrive within ${config.timeoutMs / 1000} s; send it as a data: URL instead`;
  }

  /** The request as `backend` should get it, or a 400/413/429 (HttpError) naming what is wrong. */
  async prepare(request: FastifyRequest, reply: FastifyReply, backend: Backend, backendRequest: BackendRequest): Promise<BackendRequest> {
    const plan = checkImageBounds(backendRequest, this.config);
    if (plan.urls.length === 0 || backend.name !== 'ollama') return backendRequest;
    const principal = principalOf(request);
    // The slot is held until the response closes, not only while fetching: the fetched
    // bytes live in the request for the answer's whole life, so the bound on slots is
    // the bound on fetched image bytes Jarvis holds (JARVIS_IMAGE_FETCHES_MAX x
    // JARVIS_IMAGE_MAX_REQUEST_BYTES).
    const release = this.gate.acquire(clientKeyOf(request));
    reply.raw.once('close', release);
    if (request.raw.socket.destroyed) release();
    const signal = clientGoneSignal(reply);
    const fetched = new Map<string, string>();
    let budget = this.config.maxRequestBytes - plan.dataBytes;
    try {
      for (const { url, ordinal } of plan.urls) {
        if (fetched.has(url)) continue;
        const started = performance.now();
        const options = { guard: this.guard, maxBytes: Math.min(this.config.maxBytes, budget), timeoutMs: this.config.timeoutMs, maxRedirects: this.config.maxRedirects };
        try {
          const image = await fetchImage(url, options, signal);
          budget -= image.bytes.length;
          fetched.set(url, toDataUrl(image));
          this.log.info('image_fetched', { key: principal?.name, url: forLog(url), image: ordinal, type: image.type, bytes: image.bytes.length, ms: Math.round(performance.now() - started) });
        } catch (err) {
          const reason = err instanceof ImageFetchError ? err.reason : String(err);
          this.log.warn('image_fetch_failed', { key: principal?.name, url: forLog(url), image: ordinal, reason, ms: Math.round(performance.now() - started) });
          throw httpError('image_fetch_failed', { url: shortUrl(url), policy: this.policy });
        }
      }
    } catch (err) {
      release();
      throw err;
    }
    return { ...backendRequest, messages: backendRequest.messages.map((m) => inlined(m, fetched)) };
  }
}

function inlined(message: BackendMessage, fetched: Map<string, string>): BackendMessage {
  if (typeof message.content === 'string') return message;
  return { ...message, content: message.content.map((p) => (p.type === 'image' && fetched.has(p.url) ? { ...p, url: fetched.get(p.url)! } : p)) };
}

function shortUrl(url: string): string {
  return url.length > 120 ? `${url.slice(0, 117)}...` : url;
}

/** Scheme, host and path: a query string or user info may carry a client's secret. */
function forLog(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`.slice(0, 200);
  } catch {
    return url.slice(0, 200);
  }
}
