import type { FastifyRequest } from 'fastify';

/**
 * Who is calling: the name of the API key the request presented, and whether it is
 * an operator's (JARVIS_ADMIN_KEYS). `null` when Jarvis runs without keys, where
 * every caller is the same anonymous user (and on the public routes, `/health` and
 * the web UI's files, which need no key).
 */
export type Principal = { name: string; admin: boolean } | null;

/** What a route needs: `public` (no key), `key` (any key; the default) or `admin`. */
export type Access = 'public' | 'key' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set on a route to relax or tighten the API-key guard (src/server/http/guards/apiKeys.ts). */
    access?: Access;
  }
}

const principals = new WeakMap<FastifyRequest, NonNullable<Principal>>();

/** The caller of `request`, as the API-key guard established it. */
export function principalOf(request: FastifyRequest): Principal {
  return principals.get(request) ?? null;
}

/**
 * The owner of what the caller creates (streams, sessions, conversations): the key's
 * name, or '' without keys. Two keys never share an owner, so never share a session.
 */
export function ownerOf(principal: Principal): string {
  return principal?.name ?? '';
}

/** Whether the caller may see everything (admin key, or no keys configured at all). */
export function seesAll(principal: Principal): boolean {
  return principal === null || principal.admin;
}

/** Only the API-key guard calls this. */
export function setPrincipal(request: FastifyRequest, principal: NonNullable<Principal>): void {
  principals.set(request, principal);
}
