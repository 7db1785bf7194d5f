import type { FastifyRequest } from 'fastify';

/**
 * Whose data a request may see: the name of its API key. Conversations and
 * stream logs are stored with it and only their owner reads them.
 *
 * Jarvis has no API keys yet (the guards issue adds `principalOf(request)`), so
 * every request is the one owner ''. When keys land this becomes
 * `principalOf(request)?.name ?? ''`.
 */
export function ownerOf(_request: FastifyRequest): string {
  return '';
}
