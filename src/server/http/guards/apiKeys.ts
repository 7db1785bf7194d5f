import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { ApiKey } from '../../../config.js';
import { guardError } from '../../errors.js';
import { setPrincipal, type Principal } from './principal.js';
import type { TrustedUsers } from './trustedUser.js';

// A refused key gets 401 with OpenAI's error shape and the standard challenge.
const CHALLENGE = { 'www-authenticate': 'Bearer realm="jarvis"' };

/**
 * Requires `Authorization: Bearer <key>` (OpenAI's convention), or `x-api-key: <key>`
 * (Anthropic's: docs/anthropic.md), on every route but the
 * public ones, and records who called (`principalOf`; on a public route too, when
 * the key it presents is valid). Keys are compared as SHA-256
 * digests with `timingSafeEqual`, against every configured key, so neither the
 * comparison nor the loop ends early on a partial match. Only the key's name is
 * ever logged.
 */
export function apiKeyGuard(keys: readonly ApiKey[], users?: TrustedUsers): onRequestHookHandler {
  const entries = keys.map((k) => ({ name: k.name, admin: k.admin, digest: digest(k.key) }));
  return async function checkApiKey(request: FastifyRequest, _reply: FastifyReply) {
    const access = request.routeOptions.config.access ?? 'key';
    // A person the sign-in proxy named comes first, and a key sent with it is not looked at:
    // the proxy authenticated them (docs/team.md "5. Sign-in behind an authenticating proxy").
    const user = users?.callerOf(request, access === 'public');
    if (user) {
      setPrincipal(request, user);
      if (access === 'admin' && !user.admin) throw guardError('admin_required', { key: user.name });
      return;
    }
    const presented = presentedKey(request);
    if (access === 'public') {
      // Never refused; a valid key still says who called (/health tells a keyed caller more).
      const principal = presented ? lookup(entries, presented) : null;
      if (principal) setPrincipal(request, principal);
      return;
    }
    if (presented === undefined) throw users ? guardError('sign_in_required', { header: users.header }, { headers: CHALLENGE }) : guardError('missing_api_key', undefined, { headers: CHALLENGE });
    const principal = presented === null ? null : lookup(entries, presented);
    if (!principal) throw guardError('invalid_api_key', undefined, { headers: CHALLENGE });
    setPrincipal(request, principal);
    if (access === 'admin' && !principal.admin) {
      throw guardError('admin_required', { key: principal.name });
    }
  };
}

/** The key a request presents: `Authorization: Bearer` first, else `x-api-key`; null when one is sent malformed, undefined when none is. */
function presentedKey(request: FastifyRequest): string | null | undefined {
  const header = request.headers.authorization;
  if (header !== undefined && header !== '') return /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)?.[1] ?? null;
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim() !== '') return /^\S+$/.test(apiKey.trim()) ? apiKey.trim() : null;
  return undefined;
}

function lookup(entries: ReadonlyArray<{ name: string; admin: boolean; digest: Buffer }>, presented: string): Principal {
  const d = digest(presented);
  let found: Principal = null;
  for (const e of entries) {
    if (timingSafeEqual(d, e.digest) && found === null) found = { name: e.name, admin: e.admin, via: 'env_key', keyId: `env:${e.name}`, keyName: e.name };
  }
  return found;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}
