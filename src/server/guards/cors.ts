import type { onRequestHookHandler } from 'fastify';
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

/**
 * Streamed answers are written to the raw response after `reply.hijack()`, which
 * drops headers set through `reply.header()`: copy the CORS headers onto the raw
 * response as soon as they are set, so an allowed page can read a stream and its ids.
 */
export const keepCorsHeadersOnHijack: onRequestHookHandler = function keepCorsHeaders(_request, reply, done) {
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined && (name.startsWith('access-control-') || name === 'vary')) reply.raw.setHeader(name, value);
  }
  done();
};
