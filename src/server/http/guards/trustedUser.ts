import type { FastifyRequest } from 'fastify';
import type { SystemLog } from '../../../log/systemLog.js';
import { isTrustedPeer, userNameProblem, type TrustedUsersConfig } from '../../../trustedUsers.js';
import { guardError } from '../../errors.js';
import type { Caller } from './principal.js';

// Sign-in behind an authenticating proxy (docs/team.md "5. Sign-in behind an authenticating
// proxy"). The proxy signed the person in; Jarvis believes the header it passes the name in
// only when the connection itself comes from the proxy: the peer's address
// (socket.remoteAddress), never X-Forwarded-For, which anyone can write.

/** How often one address's ignored header is logged: once a minute, with how many were not. */
const LOG_EVERY_MS = 60_000;
/** Addresses remembered for that: a flood from many addresses cannot grow the map without bound. */
const MAX_TRACKED = 1024;

export interface TrustedUsers {
  /** The header as configured, for messages. */
  readonly header: string;
  /**
   * The person the proxy named, when the request came from a trusted proxy with the header;
   * undefined otherwise (then the key rules decide). A name Jarvis cannot take is a 401
   * `invalid_user`, except on a public route (`lenient`), which is never refused.
   */
  callerOf(request: FastifyRequest, lenient: boolean): Caller | undefined;
}

export function trustedUsers(config: TrustedUsersConfig, log: Pick<SystemLog, 'warn'>, now: () => number = Date.now): TrustedUsers {
  const ignoredFrom = new Map<string, { at: number; suppressed: number }>();

  /** The header from anywhere else is not believed, and said in the log: once per address per minute. */
  const ignored = (request: FastifyRequest, peer: string, value: string): void => {
    const t = now();
    const seen = ignoredFrom.get(peer);
    if (seen && t - seen.at < LOG_EVERY_MS) {
      seen.suppressed++;
      return;
    }
    if (seen) ignoredFrom.delete(peer); // re-inserted below: the map stays in order of the last line
    else if (ignoredFrom.size >= MAX_TRACKED) {
      for (const [address, entry] of ignoredFrom) {
        if (t - entry.at < LOG_EVERY_MS && ignoredFrom.size < MAX_TRACKED) break;
        ignoredFrom.delete(address);
      }
    }
    ignoredFrom.set(peer, { at: t, suppressed: 0 });
    log.warn('trusted_header_ignored', {
      peer,
      header: config.headerLabel,
      user: value.slice(0, 64),
      path: request.url.split('?')[0]!.slice(0, 128),
      why: 'not from JARVIS_TRUSTED_PROXIES',
      ...(seen && seen.suppressed > 0 ? { also_ignored: seen.suppressed } : {}),
    });
  };

  const refuse = (lenient: boolean, problem: string): undefined => {
    if (lenient) return undefined;
    throw guardError('invalid_user', { header: config.headerLabel, problem });
  };

  return {
    header: config.headerLabel,
    callerOf(request, lenient) {
      const raw = request.headers[config.header];
      if (raw === undefined) return undefined;
      const value = Array.isArray(raw) ? raw.join(', ') : raw;
      const peer = request.raw.socket.remoteAddress ?? '';
      if (!isTrustedPeer(config, peer)) {
        ignored(request, peer || 'unknown', value);
        return undefined;
      }
      // A proxy that adds its header after the client's (instead of replacing it) would let the
      // client name itself: two of them are refused, not joined.
      if (occurrences(request.raw.rawHeaders, config.header) > 1) return refuse(lenient, 'was sent more than once (the proxy must replace the header, not add another)');
      const decoded = utf8(value);
      if (decoded === undefined) return refuse(lenient, 'is not UTF-8');
      const name = decoded.trim();
      // An empty header is no one: the key rules decide (a proxy may pass some paths unauthenticated).
      if (name === '') return undefined;
      const problem = userNameProblem(name);
      if (problem) return refuse(lenient, problem);
      return { name, admin: config.admins.has(name), via: 'user', keyId: `user:${name}`, keyName: name };
    },
  };
}

function occurrences(rawHeaders: readonly string[], lowerName: string): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === lowerName) n++;
  return n;
}

const DECODER = new TextDecoder('utf-8', { fatal: true });

/** Node reads a header's bytes as Latin-1; a proxy sends a name (an e-mail, "José") as UTF-8. */
function utf8(latin1: string): string | undefined {
  if (!/[^\p{ASCII}]/u.test(latin1)) return latin1;
  try {
    return DECODER.decode(Buffer.from(latin1, 'latin1'));
  } catch {
    return undefined;
  }
}
