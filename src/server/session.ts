import { createHash, randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { SESSION_HEADER, SESSION_ID_PATTERN } from '../shared/events.js';
import { HttpError } from './errors.js';

/**
 * The request's session: its valid `X-Session-Id`; else the OpenAI `user` field
 * (as it is when it is a valid session id, else `user-` and a hash of it, so any
 * string names one stable session); else a new session.
 */
export function sessionOf(request: FastifyRequest, user?: string): string {
  const header = request.headers[SESSION_HEADER];
  if (header === undefined) {
    if (user === undefined || user === '') return `sess-${randomUUID()}`;
    if (SESSION_ID_PATTERN.test(user)) return user;
    return `user-${createHash('sha256').update(user).digest('hex').slice(0, 24)}`;
  }
  if (typeof header !== 'string' || !SESSION_ID_PATTERN.test(header)) {
    throw new HttpError(400, 'invalid_session_id', 'X-Session-Id must be 1-128 characters of A-Z a-z 0-9 . _ : -');
  }
  return header;
}
