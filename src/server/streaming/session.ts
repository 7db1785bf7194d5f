import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { SESSION_HEADER } from '../../shared/events.js';
import { ID_PATTERN } from '../../shared/ids.js';
import { httpError } from '../errors.js';

/**
 * The request's session: its valid `X-Session-Id`, else a new session of its own.
 * Nothing in the body names a session (the OpenAI `user` field is only logged): a
 * body is what a cross-site form can forge without a preflight, and parallel calls
 * from one `user` must not cancel each other. A session belongs to the caller's key
 * (the registry scopes it by owner), so the same id under two keys is two sessions.
 */
export function sessionOf(request: FastifyRequest): string {
  const header = request.headers[SESSION_HEADER];
  if (header === undefined) return `sess-${randomUUID()}`;
  if (typeof header !== 'string' || !ID_PATTERN.test(header)) {
    throw httpError('invalid_session_id', { in: 'header' });
  }
  return header;
}
