import type { FastifyCorsOptions } from '@fastify/cors';
import { SESSION_HEADER, STREAM_HEADER } from '../../shared/events.js';

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
    exposedHeaders: [SESSION_HEADER, STREAM_HEADER],
    maxAge: 600,
    strictPreflight: true,
  };
}
