import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

// Which addresses Jarvis may fetch an image from (docs/security.md "Images in requests").
// The check is on the address actually connected to: an IP literal in the URL is
// checked before connecting, a name is checked inside the socket's own DNS lookup,
// so a name that resolves to a public address when asked once and to 127.0.0.1 the
// next time (DNS rebinding) cannot slip between a check and the connect.

/** `public`: public addresses and the allow-list; `allowlist`: the allow-list only; `off`: nothing (data: URLs only). */
export type ImageFetchMode = 'public' | 'allowlist' | 'off';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** JARVIS_IMAGE_FETCH_ALLOW, parsed: host names (exact, or `*.domain` for its subdomains) and address ranges. */
export interface ImageAllowList {
  names: string[];
  ranges: Range[];
}

/**
 * Parses the allow-list's entries: `10.0.0.0/8` or `fd00::/8` (a range), `10.1.2.3` or
 * `::1` (one address), `images.internal` (that name, whatever it resolves to) or
 * `*.internal` (every name under it). Throws an Error naming the bad entry.
 */
export function parseAllowList(entries: string[]): ImageAllowList {
  const list: ImageAllowList = { names: [], ranges: [] };
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
    if (/^[0-9a-f:.]+\/\d+$/.test(entry)) {
      // Four-part IPv4 only: ipaddr.js would also read `10/8` as 0.0.0.10/8.
      const valid = entry.includes(':') ? ipaddr.IPv6.isValidCIDR(entry) : ipaddr.IPv4.isValidCIDRFourPartDecimal(entry);
      if (!valid) throw new Error(`${JSON.stringify(raw)} is not an address range (write e.g. 10.0.0.0/8 or fd00::/8)`);
      list.ranges.push(ipaddr.parseCIDR(entry));
    } else if (isIP(entry)) {
      const address = ipaddr.parse(entry);
      list.ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else if (/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*\.?$/.test(entry)) {
      list.names.push(entry.replace(/\.$/, ''));
    } else {
      throw new Error(`${JSON.stringify(raw)} is neither a host name, an address nor an address range (write e.g. images.internal, *.internal, 10.1.2.3 or 10.0.0.0/8)`);
    }
  }
  return list;
}

/** The address as ipaddr parses it, an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) as the IPv4 address it is. */
function parsed(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (!ipaddr.isValid(address) || !isIP(address.replace(/%.*$/, ''))) return undefined;
  const ip = ipaddr.parse(address);
  return ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
}

/**
 * Whether `address` is a public unicast address: not loopback, private, link-local,
 * unique-local, CGNAT, unspecified, multicast, broadcast, reserved or documentation,
 * nor an IPv6 form that carries an IPv4 address (mapped, NAT64, 6to4, Teredo).
 * IPv6 must also be global unicast (2000::/3), which leaves out the deprecated
 * IPv4-compatible `::a.b.c.d` forms ipaddr.js calls unicast.
 */
export function isPublicAddress(address: string): boolean {
  const ip = parsed(address);
  if (!ip) return false;
  if (ip.range() !== 'unicast') return false;
  return ip.kind() === 'ipv4' || ((ip as ipaddr.IPv6).parts[0]! & 0xe000) === 0x2000;
}

/** What may be fetched, for one configuration. */
export class AddressGuard {
  constructor(
    private readonly mode: ImageFetchMode,
    private readonly allow: ImageAllowList,
  ) {}

  /** Whether the URL's host is a name on the allow-list (then any address it resolves to may be fetched). */
  nameAllowed(hostname: string): boolean {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    return this.allow.names.some((entry) => (entry.startsWith('*.') ? name.endsWith(entry.slice(1)) : name === entry));
  }

  /** Whether Jarvis may connect to `address`: a public one (in `public` mode) or one in an allowed range. */
  addressAllowed(address: string): boolean {
    if (this.mode === 'off') return false;
    const ip = parsed(address);
    if (!ip) return false;
    if (this.allow.ranges.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits))) return true;
    return this.mode === 'public' && isPublicAddress(address);
  }

  /**
   * A `lookup` for node:http(s) requests to a name that is not on the allow-list:
   * resolves as usual, then fails the connect if any address it got is not allowed.
   */
  lookup(): LookupFunction {
    return (hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
        if (err) return callback(err, []);
        const refused = addresses.find((a) => !this.addressAllowed(a.address));
        if (refused || addresses.length === 0) return callback(new RefusedAddressError(hostname, refused?.address), []);
        if (options.all) return callback(null, addresses);
        callback(null, addresses[0]!.address, addresses[0]!.family);
      });
    };
  }
}

/** A connect Jarvis refused because of where it would go; only the log names the address. */
export class RefusedAddressError extends Error {
  readonly code = 'EREFUSEDADDRESS';
  constructor(host: string, address: string | undefined) {
    super(address === undefined ? `${host} resolved to no address` : `${host} is ${address}, not an address Jarvis may fetch from`);
  }
}
