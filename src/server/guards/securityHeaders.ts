import type { FastifyHelmetOptions } from '@fastify/helmet';

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
 * The hardening headers on every response, the hijacked streaming ones included
 * (helmet sets them on the raw response in `onRequest`): nosniff, no framing, no
 * referrer, CORP same-origin (a `no-cors` read from another site gets nothing).
 * HSTS is left to the TLS proxy in front: Jarvis itself speaks plain HTTP.
 */
export function securityHeaders(): FastifyHelmetOptions {
  return {
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
  };
}
