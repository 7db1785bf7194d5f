import type { FastifyRequest } from 'fastify';
import { principalOf } from './principal.js';

/**
 * Whose streams a request's stream counts against (the per-client cap): the API
 * key when keys are configured, so that clients behind one proxy (one address)
 * are told apart by their keys; else the client's address.
 */
export function clientKeyOf(request: FastifyRequest): string {
  const principal = principalOf(request);
  return principal ? `key:${principal.name}` : `addr:${request.ip}`;
}
