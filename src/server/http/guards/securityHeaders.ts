import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

// One policy for every response. It is the web UI's (which renders model output, so
// even a bug in the Markdown rendering must not run a script or load anything from
// elsewhere), and on an API response it is harmless and stops the same things.
const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/**
 * The hardening headers: nosniff, no framing, no referrer, CORP same-origin (a
 * `no-cors` read from another site gets nothing). HSTS is left to the TLS proxy in
 * front: Jarvis itself speaks plain HTTP.
 */
const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  strictTransportSecurity: false,
  crossOriginResourcePolicy: { policy: 'same-origin' },
};

/**
 * helmet's headers, worked out once: they depend on nothing in the request, so
 * every reply gets the same [name, value] pairs instead of helmet running (and
 * setting a dozen headers on the raw response) per request. A streamed reply
 * holds its headers for its whole life; these are shared by all of them.
 */
function helmetHeaders(): ReadonlyArray<readonly [string, string]> {
  const pairs: Array<readonly [string, string]> = [];
  const capture = {
    setHeader(name: string, value: string | number | readonly string[]) {
      pairs.push(Object.freeze([name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value)] as const));
    },
    removeHeader(name: string) {
      const i = pairs.findIndex(([n]) => n === name.toLowerCase());
      if (i >= 0) pairs.splice(i, 1);
    },
  };
  let failed: unknown;
  helmet(HELMET_OPTIONS)({} as IncomingMessage, capture as unknown as ServerResponse, (err?: unknown) => (failed = err));
  if (failed) throw failed;
  return Object.freeze(pairs);
}

export const SECURITY_HEADERS = helmetHeaders();

/**
 * Every reply Fastify sends (routes, refusals, errors, the UI's files) gets the
 * security headers as it is sent. Streamed replies are written to the raw response
 * after `reply.hijack()` and skip this: they take the same headers from
 * `writeStreamHead` (src/server/http/streamHead.ts).
 */
export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    for (const [name, value] of SECURITY_HEADERS) if (!reply.hasHeader(name)) reply.header(name, value);
    done(null, payload);
  });
}
