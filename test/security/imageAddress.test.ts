import { afterEach, describe, expect, it } from 'vitest';
import { AddressGuard, isPublicAddress, parseAllowList } from '../../src/backends/images/address.js';
import { fetchImage, ImageFetchError } from '../../src/backends/images/fetchImage.js';
import { sniffImageType } from '../../src/backends/images/sniff.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { ImageHost, PNG } from '../helpers/fakes/imageHost.js';

// The address classifier and the allow-list behind image fetching (docs/security.md
// "Images in requests"), and the URL spellings of loopback that must not get through.

let hosts: ImageHost[] = [];
afterEach(async () => {
  for (const h of hosts) await h.stop();
  hosts = [];
});

describe('isPublicAddress', () => {
  it('refuses every address that is not public unicast', () => {
    const notPublic = [
      '127.0.0.1',
      '127.255.255.254',
      '0.0.0.0',
      '0.1.2.3',
      '10.0.0.1',
      '172.16.5.4',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '100.127.255.254',
      '224.0.0.1',
      '239.255.255.250',
      '255.255.255.255',
      '240.0.0.1',
      '192.0.2.1',
      '198.18.0.1',
      '::',
      '::1',
      'fe80::1',
      'fe80::1%eth0',
      'fc00::1',
      'fd12:3456::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:10.0.0.1',
      '::ffff:169.254.169.254',
      '::127.0.0.1',
      '64:ff9b::7f00:1',
      '2002:7f00:1::1',
      '2001::1',
      '2001:db8::1',
      'fec0::1',
      'localhost',
      '0x7f.1',
      '2130706433',
      '',
    ];
    for (const address of notPublic) expect(isPublicAddress(address), address).toBe(false);
  });

  it('accepts public IPv4 and global IPv6, also IPv4-mapped', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450:4001::1', '::ffff:8.8.8.8']) {
      expect(isPublicAddress(address), address).toBe(true);
    }
  });
});

describe('AddressGuard and JARVIS_IMAGE_FETCH_ALLOW', () => {
  it('public mode: public addresses and allowed ranges; allowlist mode: allowed ranges only; off: nothing', () => {
    const allow = parseAllowList(['10.1.0.0/16', '127.0.0.2', '[fd00::5]', 'images.internal', '*.corp.example']);
    const pub = new AddressGuard('public', allow);
    expect(pub.addressAllowed('8.8.8.8')).toBe(true);
    expect(pub.addressAllowed('10.1.2.3')).toBe(true);
    expect(pub.addressAllowed('::ffff:10.1.2.3')).toBe(true);
    expect(pub.addressAllowed('10.2.0.1')).toBe(false);
    expect(pub.addressAllowed('127.0.0.2')).toBe(true);
    expect(pub.addressAllowed('127.0.0.1')).toBe(false);
    expect(pub.addressAllowed('fd00::5')).toBe(true);
    expect(pub.addressAllowed('fd00::6')).toBe(false);
    expect(pub.nameAllowed('images.internal')).toBe(true);
    expect(pub.nameAllowed('Images.Internal.')).toBe(true);
    expect(pub.nameAllowed('x.images.internal')).toBe(false);
    expect(pub.nameAllowed('a.corp.example')).toBe(true);
    expect(pub.nameAllowed('corp.example')).toBe(false);
    expect(pub.nameAllowed('evilcorp.example')).toBe(false);

    const listed = new AddressGuard('allowlist', allow);
    expect(listed.addressAllowed('8.8.8.8')).toBe(false);
    expect(listed.addressAllowed('10.1.2.3')).toBe(true);

    const off = new AddressGuard('off', allow);
    expect(off.addressAllowed('10.1.2.3')).toBe(false);
    expect(off.addressAllowed('8.8.8.8')).toBe(false);
  });

  it('a name is checked at its lookup: one that resolves to loopback fails the connect', async () => {
    const lookup = new AddressGuard('public', parseAllowList([])).lookup();
    const err = await new Promise<Error | null>((resolve) => lookup('localhost', { all: true }, (e) => resolve(e)));
    expect(err?.message).toMatch(/not an address Jarvis may fetch from/);
    const allowed = new AddressGuard('public', parseAllowList(['127.0.0.0/8', '::1'])).lookup();
    const found = await new Promise<unknown>((resolve, reject) => allowed('localhost', { all: true }, (e, a) => (e ? reject(e) : resolve(a))));
    expect(found).toEqual(expect.arrayContaining([expect.objectContaining({ address: expect.stringMatching(/^(127\.0\.0\.1|::1)$/) })]));
  });

  it('configuration: defaults, every variable, and a clear error for a bad entry', () => {
    expect(loadConfig({}).images).toEqual({
      fetch: 'public',
      allow: { names: [], ranges: [] },
      perRequest: 16,
      maxBytes: 20 * 1024 * 1024,
      maxRequestBytes: 32 * 1024 * 1024,
      timeoutMs: 10_000,
      maxRedirects: 3,
      fetchesPerClient: 4,
      fetchesMax: 16,
    });
    const images = loadConfig({
      JARVIS_IMAGE_FETCH: 'allowlist',
      JARVIS_IMAGE_FETCH_ALLOW: ' images.internal , 10.0.0.0/8 ',
      JARVIS_IMAGES_PER_REQUEST: '4',
      JARVIS_IMAGE_MAX_BYTES: '1000',
      JARVIS_IMAGE_MAX_REQUEST_BYTES: '2000',
      JARVIS_IMAGE_FETCH_TIMEOUT_MS: '500',
      JARVIS_IMAGE_FETCH_REDIRECTS: '0',
      JARVIS_IMAGE_FETCHES_PER_CLIENT: '1',
      JARVIS_IMAGE_FETCHES_MAX: '2',
    }).images;
    expect(images).toMatchObject({ fetch: 'allowlist', perRequest: 4, maxBytes: 1000, maxRequestBytes: 2000, timeoutMs: 500, maxRedirects: 0, fetchesPerClient: 1, fetchesMax: 2 });
    expect(images.allow.names).toEqual(['images.internal']);
    expect(images.allow.ranges).toHaveLength(1);
    expect(() => loadConfig({ JARVIS_IMAGE_FETCH: 'yes' })).toThrow(/JARVIS_IMAGE_FETCH must be one of public, allowlist, off/);
    expect(() => loadConfig({ JARVIS_IMAGE_FETCH_ALLOW: '10.0.0.0/33' })).toThrow(ConfigError);
    expect(() => loadConfig({ JARVIS_IMAGE_FETCH_ALLOW: '10/8' })).toThrow(/is not an address range/);
    expect(() => loadConfig({ JARVIS_IMAGE_FETCH_ALLOW: 'http://images.internal/' })).toThrow(/JARVIS_IMAGE_FETCH_ALLOW: "http:\/\/images.internal\/" is neither/);
    expect(() => loadConfig({ JARVIS_IMAGE_FETCHES_PER_CLIENT: '0' })).toThrow(/JARVIS_IMAGE_FETCHES_PER_CLIENT/);
  });
});

describe('fetchImage refuses loopback however the URL spells it', () => {
  it('hex, short, decimal, mapped IPv6, localhost with a trailing dot, zone ids: nothing reaches the host', async () => {
    const host = await new ImageHost().start();
    hosts.push(host);
    const port = new URL(host.url).port;
    const guard = new AddressGuard('public', parseAllowList([]));
    const options = { guard, maxBytes: 1 << 20, timeoutMs: 5000, maxRedirects: 3 };
    for (const url of [
      `http://0x7f.1:${port}/png`,
      `http://0x7f000001:${port}/png`,
      `http://0177.0.0.1:${port}/png`,
      `http://127.1:${port}/png`,
      `http://2130706433:${port}/png`,
      `http://[::ffff:127.0.0.1]:${port}/png`,
      `http://[::ffff:7f00:1]:${port}/png`,
      `http://[0:0:0:0:0:ffff:127.0.0.1]:${port}/png`,
      `http://localhost:${port}/png`,
      `http://localhost.:${port}/png`,
      `http://LOCALHOST:${port}/png`,
      `http://[fe80::1%25lo]:${port}/png`,
      `http://0:${port}/png`,
      `https://127.0.0.1:${port}/png`,
    ]) {
      await expect(fetchImage(url, options, new AbortController().signal), url).rejects.toBeInstanceOf(ImageFetchError);
    }
    expect(host.requests).toEqual([]);
    // The same host, allowed by range, is fetched: the refusals above were the guard's.
    const allowed = { ...options, guard: new AddressGuard('public', parseAllowList(['127.0.0.1'])) };
    expect(await fetchImage(`http://0x7f.1:${port}/png`, allowed, new AbortController().signal)).toEqual({ type: 'image/png', bytes: PNG });
  });

  it('sniffs the image types models take, and nothing else', () => {
    expect(sniffImageType(PNG)).toBe('image/png');
    expect(sniffImageType(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffImageType(Buffer.from('GIF89a....'))).toBe('image/gif');
    expect(sniffImageType(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(sniffImageType(Buffer.from('{"secret":1}'))).toBeUndefined();
    expect(sniffImageType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
  });
});
