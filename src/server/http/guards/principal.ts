import type { FastifyRequest } from 'fastify';
import type { KeyLimits } from '../../../shared/team/admin.js';

/**
 * Who is calling (docs/team.md): a key from JARVIS_API_KEYS / JARVIS_ADMIN_KEYS
 * (`env_key`), a key stored in the database (`key`), or a person an authenticating
 * proxy signed in (`user`).
 */
export interface Caller {
  /** The owner of what the caller creates (conversations, sessions, usage): an env key's name, a stored key's owner, the user's name. */
  name: string;
  /** An operator: JARVIS_ADMIN_KEYS, a stored key of role `admin`, a user in JARVIS_ADMIN_USERS. */
  admin: boolean;
  via: 'env_key' | 'key' | 'user';
  /** What usage is recorded and limits are kept per: `key_…`, `env:<name>`, `user:<name>`. */
  keyId: string;
  /** The key's name, or the user's: what logs show (never the key). */
  keyName: string;
  /** The limits that bound this caller; undefined: none. */
  limits?: KeyLimits;
}

/**
 * The caller, or `null` when Jarvis runs without authentication, where every caller
 * is the same anonymous user (and on the public routes, `/health` and the web UI's
 * files, which need no key).
 */
export type Principal = Caller | null;

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
