import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { SESSION_ID_PATTERN } from '../shared/events.js';
import { HttpError } from './errors.js';

/** The request's session: its valid `X-Session-Id`, or a new one. */
export function sessionOf(request: FastifyRequest): string {
  const header = request.headers['x-session-id'];
  if (header === undefined) return `sess-${randomUUID()}`;
  if (typeof header !== 'string' || !SESSION_ID_PATTERN.test(header)) {
    throw new HttpError(400, 'invalid_session_id', 'X-Session-Id must be 1-128 characters of A-Z a-z 0-9 . _ : -');
  }
  return header;
}
