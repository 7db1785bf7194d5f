import type { FastifyCorsOptions } from '@fastify/cors';
import { SESSION_HEADER, STREAM_HEADER } from '../../../shared/events.js';

const EXPOSED_HEADERS = [SESSION_HEADER, STREAM_HEADER];

/**
 * CORS for the origins the origin guard let through (JARVIS_ALLOWED_ORIGINS, and
 * Jarvis's own). Any other `Origin` was refused with 403 before this runs, so every
 * origin that reaches here is echoed back; requests without one get no CORS headers.
 * Keys travel in `Authorization`, not cookies: no credentials mode.
 */
export function corsOptions(): FastifyCorsOptions {
  return {
    origin: (origin, callback) => callback(null, origin !== undefined),
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    // allowedHeaders unset: the headers a preflight asks for are granted (the OpenAI SDKs send X-Stainless-*).
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
    strictPreflight: true,
  };
}

const VARY: readonly string[] = Object.freeze(['vary', 'Origin']);
const EXPOSE: readonly string[] = Object.freeze(['access-control-expose-headers', EXPOSED_HEADERS.join(', ')]);

/**
 * The CORS headers @fastify/cors gives a simple (not preflight) request with the
 * options above, as [name, value, …] for a streamed reply's `writeHead`: hijacked
 * replies lose the headers set through `reply`, so they take them from here.
 * `vary: Origin` always (the origin decides the reply); an allowed origin echoed.
 */
export function corsHeaders(origin: string | undefined): readonly string[] {
  return origin === undefined ? VARY : [...VARY, 'access-control-allow-origin', origin, ...EXPOSE];
}
