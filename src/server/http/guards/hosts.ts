import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { guardError } from '../../errors.js';

export interface HostGuardOptions {
  /** The address Jarvis listens on (HOST). */
  boundHost: string;
  /** JARVIS_ALLOWED_HOSTS: names, `*.domain`, or `*`. */
  allowed: readonly string[];
  /** Whether every route that does anything needs an API key: asked per request (stored keys come and go). */
  keyed?: boolean | (() => boolean);
}

/**
 * The name Docker gives the host inside a container (Docker Desktop; `--add-host
 * host.docker.internal:host-gateway` on Linux): how Open WebUI's container reaches
 * Jarvis. Accepted without listing it when Jarvis has keys, as a Docker set-up
 * beyond loopback must: a page that rebinds a name cannot know a key, so the Host
 * check adds nothing there (docs/api.md#open-webui). Without keys it must be listed.
 */
export const DOCKER_HOST_NAME = 'host.docker.internal';

/**
 * Refuses a request whose `Host` is not Jarvis's: the defence against DNS rebinding,
 * where a page on a name the attacker controls is re-pointed at 127.0.0.1 and so
 * becomes "same-origin" with Jarvis. An IP literal cannot be rebound, so loopback
 * addresses and the machine's own address(es) pass; any other name must be listed.
 */
export function hostGuard(options: HostGuardOptions): onRequestHookHandler {
  const accepts = hostMatcher(options);
  return async function checkHost(request: FastifyRequest) {
    const host = request.headers.host;
    // HTTP/1.0 may omit Host; no browser does, so nothing a page can do lacks it.
    if (host === undefined) return;
    const name = hostnameOf(host);
    if (name === undefined || !accepts(name)) {
      throw guardError('host_not_allowed', { host });
    }
  };
}

/** The lower-cased host name of a `Host` header (without port; IPv6 in brackets), or undefined if it is malformed. */
export function hostnameOf(host: string): string | undefined {
  // Strict: a Host is a name or address and an optional port, nothing the URL parser would reinterpret.
  if (!/^[A-Za-z0-9.\-[\]:]{1,255}$/.test(host)) return undefined;
  try {
    return new URL(`http://${host}`).hostname.replace(/\.$/, '');
  } catch {
    return undefined;
  }
}

export function hostMatcher(options: HostGuardOptions): (hostname: string) => boolean {
  if (options.allowed.includes('*')) return () => true;
  const exact = new Set<string>(options.allowed.filter((h) => !h.startsWith('*.')));
  const suffixes = options.allowed.filter((h) => h.startsWith('*.')).map((h) => h.slice(1));
  for (const address of ownAddresses(options.boundHost)) exact.add(address);
  const keyed = typeof options.keyed === 'function' ? options.keyed : () => options.keyed === true;
  return (name) =>
    isLoopbackName(name) || exact.has(name) || suffixes.some((s) => name.endsWith(s) && name.length > s.length) || (name === DOCKER_HOST_NAME && keyed());
}

/** `localhost`, `*.localhost` (RFC 6761), 127.0.0.0/8, [::1]. */
export function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost') || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** The addresses a client may use to reach this server as they appear in `Host`. */
function ownAddresses(boundHost: string): string[] {
  const bound = boundHost.replace(/^\[|\]$/g, '').toLowerCase();
  const unspecified = bound === '0.0.0.0' || bound === '::' || bound === '';
  if (!unspecified) return [isIP(bound) === 6 ? `[${bound}]` : bound];
  // Listening everywhere: any of this machine's addresses reaches it (0.0.0.0 too, on Linux).
  const addresses: string[] = ['0.0.0.0', '[::]'];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) addresses.push(a.family === 'IPv6' ? `[${a.address.split('%')[0]!.toLowerCase()}]` : a.address);
  }
  return addresses;
}

/** Whether listening on `host` exposes Jarvis beyond this machine. */
export function isLoopbackBind(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
