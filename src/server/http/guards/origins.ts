import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { guardError } from '../../errors.js';

export interface OriginGuardOptions {
  /** JARVIS_ALLOWED_ORIGINS: `scheme://host[:port]` (a `*` may stand for part of host or port), or `*`. */
  allowed: readonly string[];
}

/**
 * Refuses what a web page on another origin makes the browser send: a request whose
 * `Origin` is neither Jarvis's own nor allowed, or one the browser marks
 * `Sec-Fetch-Site: cross-site`/`same-site` without an allowed `Origin` (a `no-cors`
 * GET, an <img>, a <script>). It runs on `onRequest`, so a refused body is never read.
 * Requests with neither header (curl, SDKs, other servers) pass: they are not a
 * browser acting for a page, and API keys are what guard against those.
 *
 * A top-level GET navigation passes too (a link to Jarvis from another site opens
 * the UI): it cannot change anything, and the linking page cannot read its answer.
 */
export function originGuard(options: OriginGuardOptions): onRequestHookHandler {
  const isAllowed = originMatcher(options.allowed);
  return async function checkOrigin(request: FastifyRequest) {
    const origin = request.headers.origin;
    if (origin !== undefined) {
      if (isOwnOrigin(origin, request.headers.host) || isAllowed(origin)) return;
      throw guardError('origin_not_allowed', { origin });
    }
    const site = request.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') {
      if (isTopLevelNavigation(request)) return;
      throw guardError('origin_not_allowed', { site });
    }
  };
}

/** Same-origin requests carry `Origin` = scheme://Host; behind a TLS proxy the scheme is https. */
function isOwnOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const o = new URL(origin);
    if (o.protocol !== 'http:' && o.protocol !== 'https:') return false;
    const h = new URL(`${o.protocol}//${host}`);
    return o.host === h.host && o.origin === origin.toLowerCase().replace(/\/$/, '');
  } catch {
    return false;
  }
}

function isTopLevelNavigation(request: FastifyRequest): boolean {
  return (
    (request.method === 'GET' || request.method === 'HEAD') &&
    request.headers['sec-fetch-mode'] === 'navigate' &&
    request.headers['sec-fetch-dest'] === 'document'
  );
}

export function originMatcher(allowed: readonly string[]): (origin: string) => boolean {
  if (allowed.includes('*')) return () => true;
  const patterns = allowed.map((entry) => new RegExp(`^${entry.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/:]*')}$`));
  return (origin) => {
    const o = origin.toLowerCase();
    return patterns.some((p) => p.test(o));
  };
}
