import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { ConfigError, list, type Env } from './env.js';

// Sign-in behind an authenticating proxy (docs/team.md "5. Sign-in behind an authenticating
// proxy"): a proxy (oauth2-proxy, Authelia, Authentik, haproxy with a user list) signs the
// person in and passes their name on in a header. Jarvis believes that header only from the
// proxy's own addresses: anyone else could write it.

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** JARVIS_TRUSTED_USER_HEADER, JARVIS_TRUSTED_PROXIES and JARVIS_ADMIN_USERS, parsed. */
export interface TrustedUsersConfig {
  /** The header's name, lower-cased (as Node gives request headers). */
  header: string;
  /** The header as the operator wrote it, for messages and logs. */
  headerLabel: string;
  /** The addresses the header is believed from: the proxy's, as Jarvis sees the connection's peer. */
  proxies: readonly Range[];
  /** The entries as written, for messages. */
  proxyLabels: readonly string[];
  /** User names (exactly as the proxy sends them) who are operators. */
  admins: ReadonlySet<string>;
}

// RFC 9110's token: what a header's name may be made of.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// Headers that mean something else to Jarvis or to HTTP: a user name in one of them would be
// mixed up with a key, a cookie or the framing of the request.
const RESERVED = new Set(['authorization', 'x-api-key', 'cookie', 'host', 'content-type', 'content-length', 'transfer-encoding', 'connection', 'x-forwarded-for', 'x-session-id']);

/** Undefined when JARVIS_TRUSTED_USER_HEADER is not set (and neither of the others is). */
export function parseTrustedUsers(env: Env): TrustedUsersConfig | undefined {
  const headerLabel = (env.JARVIS_TRUSTED_USER_HEADER ?? '').trim();
  const proxyLabels = list(env, 'JARVIS_TRUSTED_PROXIES');
  const admins = list(env, 'JARVIS_ADMIN_USERS');
  if (headerLabel === '') {
    // A half-made sign-in is a mistake to say, not to ignore: the admins would never be admins.
    if (proxyLabels.length > 0) throw new ConfigError('JARVIS_TRUSTED_PROXIES is set but JARVIS_TRUSTED_USER_HEADER is not: set the header your sign-in proxy passes the user in (e.g. X-Forwarded-User), or remove JARVIS_TRUSTED_PROXIES');
    if (admins.length > 0) throw new ConfigError('JARVIS_ADMIN_USERS is set but JARVIS_TRUSTED_USER_HEADER is not: admin users are people a sign-in proxy names; set JARVIS_TRUSTED_USER_HEADER and JARVIS_TRUSTED_PROXIES (docs/team.md)');
    return undefined;
  }
  if (!TOKEN.test(headerLabel)) {
    throw new ConfigError(`JARVIS_TRUSTED_USER_HEADER: ${JSON.stringify(headerLabel.slice(0, 80))} is not a header name (letters, digits and - _ . only, e.g. X-Forwarded-User)`);
  }
  const header = headerLabel.toLowerCase();
  if (RESERVED.has(header)) throw new ConfigError(`JARVIS_TRUSTED_USER_HEADER: ${headerLabel} already means something else; use the header your proxy puts the user in (e.g. X-Forwarded-User, X-Auth-Request-Email, Remote-User)`);
  if (proxyLabels.length === 0) {
    throw new ConfigError(
      `JARVIS_TRUSTED_USER_HEADER=${headerLabel} needs JARVIS_TRUSTED_PROXIES: the addresses of the sign-in proxy (e.g. 127.0.0.1 or 10.0.0.5,fd00::/64). ` +
        'From any other address the header is ignored; without the list anyone could claim to be anyone.',
    );
  }
  for (const name of admins) {
    const problem = userNameProblem(name);
    if (problem) throw new ConfigError(`JARVIS_ADMIN_USERS: ${JSON.stringify(name.slice(0, 80))} ${problem}`);
  }
  return { header, headerLabel, proxies: proxyLabels.map(proxyRange), proxyLabels, admins: new Set(admins) };
}

/** `10.0.0.5`, `::1`, `10.0.0.0/8`, `fd00::/64` (IPv6 may be in brackets). */
function proxyRange(raw: string): Range {
  const entry = raw.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/^\[(.*)\](\/\d+)$/, '$1$2');
  const wrong = () =>
    new ConfigError(`JARVIS_TRUSTED_PROXIES: ${JSON.stringify(raw.slice(0, 80))} is not an address or an address range (write e.g. 127.0.0.1, 10.0.0.0/8, ::1 or fd00::/64; names are not resolved)`);
  if (entry.includes('/')) {
    // Four-part IPv4 only: ipaddr.js would also read `10/8` as 0.0.0.10/8.
    const valid = entry.includes(':') ? ipaddr.IPv6.isValidCIDR(entry) : ipaddr.IPv4.isValidCIDRFourPartDecimal(entry);
    if (!valid) throw wrong();
    const [address, bits] = ipaddr.parseCIDR(entry);
    return [unmapped(address), address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? Math.max(0, bits - 96) : bits];
  }
  if (!isIP(entry)) throw wrong();
  const address = unmapped(ipaddr.parse(entry));
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

/** An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, what a dual-stack socket reports) as the IPv4 address it is. */
function unmapped(ip: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
}

/** Whether the connection's peer (`socket.remoteAddress`) is one of the trusted proxies. */
export function isTrustedPeer(config: Pick<TrustedUsersConfig, 'proxies'>, remoteAddress: string | undefined): boolean {
  if (remoteAddress === undefined) return false;
  const bare = remoteAddress.replace(/%.*$/, '');
  if (!isIP(bare)) return false;
  const ip = unmapped(ipaddr.parse(bare));
  return config.proxies.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits));
}

/** Why `name` cannot be a user's name (undefined: it can): 1-256 printable characters, no control or format characters. */
export function userNameProblem(name: string): string | undefined {
  const length = [...name].length;
  if (length === 0) return 'is empty';
  if (length > 256) return `is ${length} characters long; at most 256`;
  if (/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u.test(name)) return 'has a control or otherwise unprintable character';
  return undefined;
}
