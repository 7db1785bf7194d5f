import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { ApiKey } from '../../../config.js';
import { guardError } from '../../errors.js';
import type { KeyVerdict } from '../../auth/keyDirectory.js';
import { storeCall } from '../../storeErrors.js';
import { setPrincipal, type Principal } from './principal.js';
import type { TrustedUsers } from './trustedUser.js';

// A refused key gets 401 with OpenAI's error shape and the standard challenge.
const CHALLENGE = { 'www-authenticate': 'Bearer realm="jarvis"' };

/** The stored keys (src/server/auth/keyDirectory.ts), asked after the environment's. */
export interface StoredKeys {
  verify(hash: string, options?: { memoryOnly?: boolean }): Promise<KeyVerdict>;
}

export interface ApiKeyGuardOptions {
  stored?: StoredKeys;
  /** Whether a key is needed now (auth/authSwitch.ts); absent: always. False: every request passes, as without keys. */
  required?: () => boolean;
  /** People a sign-in proxy names (JARVIS_TRUSTED_USER_HEADER): believed first. */
  users?: TrustedUsers | undefined;
}

/** What a stored key looks like (store/keys/secret.ts): anything else is never looked up. */
const STORED_KEY = /^jk-[A-Za-z0-9_-]{43}$/;

/**
 * Requires `Authorization: Bearer <key>` (OpenAI's convention), or `x-api-key: <key>`
 * (Anthropic's: docs/anthropic.md), on every route but the
 * public ones, and records who called (`principalOf`; on a public route too, when
 * the key it presents is valid). Keys are compared as SHA-256
 * digests with `timingSafeEqual`, against every configured key, so neither the
 * comparison nor the loop ends early on a partial match. Only the key's name is
 * ever logged. Then the stored keys: a revoked or expired one is refused saying so.
 */
export function apiKeyGuard(keys: readonly ApiKey[], options: ApiKeyGuardOptions = {}): onRequestHookHandler {
  const entries = keys.map((k) => ({ name: k.name, admin: k.admin, digest: digest(k.key) }));
  // One digest per presented key: the environment's keys compare it, the stored keys look up its hex.
  const stored = async (presented: string, presentedDigest: Buffer, memoryOnly: boolean): Promise<KeyVerdict> =>
    options.stored && STORED_KEY.test(presented) ? options.stored.verify(presentedDigest.toString('hex'), { memoryOnly }) : { kind: 'unknown' };
  return async function checkApiKey(request: FastifyRequest, _reply: FastifyReply) {
    if (options.required && !options.required()) return;
    const access = request.routeOptions.config.access ?? 'key';
    // A person the sign-in proxy named comes first, and a key sent with it is not looked at:
    // the proxy authenticated them (docs/team.md "5. Sign-in behind an authenticating proxy").
    const user = options.users?.callerOf(request, access === 'public');
    if (user) {
      setPrincipal(request, user);
      if (access === 'admin' && !user.admin) throw guardError('admin_required', { key: user.name });
      return;
    }
    const presented = presentedKey(request);
    if (access === 'public') {
      // Never refused; a valid key still says who called (/health tells a keyed caller more).
      const d = presented ? digest(presented) : undefined;
      let principal = presented && d ? lookup(entries, d) : null;
      if (!principal && presented && d) {
        const verdict = await stored(presented, d, true);
        if (verdict.kind === 'ok') principal = verdict.caller;
      }
      if (principal) setPrincipal(request, principal);
      return;
    }
    if (presented === undefined) throw options.users ? guardError('sign_in_required', { header: options.users.header }, { headers: CHALLENGE }) : guardError('missing_api_key', undefined, { headers: CHALLENGE });
    const d = presented === null ? undefined : digest(presented);
    let principal = d ? lookup(entries, d) : null;
    if (!principal && presented && d) {
      // A database that cannot be asked is a 503, not a refused key.
      const verdict = await storeCall(stored(presented, d, false));
      if (verdict.kind === 'revoked' || verdict.kind === 'expired') {
        const facts = { name: verdict.key.name, at: new Date(verdict.at).toISOString() };
        throw guardError(verdict.kind === 'revoked' ? 'api_key_revoked' : 'api_key_expired', facts, { headers: CHALLENGE });
      }
      if (verdict.kind === 'ok') principal = verdict.caller;
    }
    if (!principal) throw guardError('invalid_api_key', undefined, { headers: CHALLENGE });
    setPrincipal(request, principal);
    if (access === 'admin' && !principal.admin) {
      throw guardError('admin_required', { key: principal.keyName });
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

function lookup(entries: ReadonlyArray<{ name: string; admin: boolean; digest: Buffer }>, d: Buffer): Principal {
  let found: Principal = null;
  for (const e of entries) {
    if (timingSafeEqual(d, e.digest) && found === null) found = { name: e.name, admin: e.admin, via: 'env_key', keyId: `env:${e.name}`, keyName: e.name };
  }
  return found;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}
