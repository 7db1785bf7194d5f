import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { exposureWarnings } from '../../src/server/http/guards/exposure.js';
import { isTrustedPeer, parseTrustedUsers } from '../../src/trustedUsers.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, waitForLog } from '../helpers/log.js';

// Sign-in behind an authenticating proxy (docs/team.md "5. Sign-in behind an authenticating
// proxy"): the user header is believed only from JARVIS_TRUSTED_PROXIES, judged by the
// connection's own peer address. The proxy here is a connection from 127.0.0.2 (a loopback
// address of its own); the test's other requests come from 127.0.0.1, "anywhere else".

const PROXY = '127.0.0.2';
const KEY = 'ci-key-0123456789abcdef';
const SIGN_IN = { JARVIS_TRUSTED_USER_HEADER: 'X-Forwarded-User', JARVIS_TRUSTED_PROXIES: `${PROXY},fd00::/8`, JARVIS_ADMIN_USERS: 'carol' };

describe('the configuration', () => {
  const load = (env: Record<string, string>) => () => loadConfig(env);

  it('refuses a header without trusted proxies, a bad header name, bad addresses, and half a configuration, in words', () => {
    expect(load({ JARVIS_TRUSTED_USER_HEADER: 'X-Forwarded-User' })).toThrow(/needs JARVIS_TRUSTED_PROXIES.*anyone could claim to be anyone/);
    expect(load({ ...SIGN_IN, JARVIS_TRUSTED_USER_HEADER: 'X Forwarded User' })).toThrow(/JARVIS_TRUSTED_USER_HEADER: "X Forwarded User" is not a header name/);
    expect(load({ ...SIGN_IN, JARVIS_TRUSTED_USER_HEADER: 'X-User:' })).toThrow(ConfigError);
    expect(load({ ...SIGN_IN, JARVIS_TRUSTED_USER_HEADER: 'Authorization' })).toThrow(/already means something else/);
    for (const bad of ['10.0.0.0/33', '10/8', 'proxy.example.com', '300.1.1.1', 'fd00::/129', '10.0.0.1-10.0.0.9']) {
      expect(load({ ...SIGN_IN, JARVIS_TRUSTED_PROXIES: `127.0.0.1,${bad}` }), bad).toThrow(new RegExp(`JARVIS_TRUSTED_PROXIES: "${bad.replace(/[./]/g, '\\$&')}" is not an address`));
    }
    expect(load({ JARVIS_TRUSTED_PROXIES: '127.0.0.1' })).toThrow(/JARVIS_TRUSTED_PROXIES is set but JARVIS_TRUSTED_USER_HEADER is not/);
    expect(load({ JARVIS_ADMIN_USERS: 'carol' })).toThrow(/JARVIS_ADMIN_USERS is set but JARVIS_TRUSTED_USER_HEADER is not/);
    expect(load({ ...SIGN_IN, JARVIS_ADMIN_USERS: `carol,${'x'.repeat(300)}` })).toThrow(/JARVIS_ADMIN_USERS: .* is 300 characters long; at most 256/);
    expect(loadConfig({}).trustedUsers).toBeUndefined();
  });

  it('takes addresses and ranges, IPv4 and IPv6, and judges a peer by them (an IPv4-mapped peer as IPv4)', () => {
    const c = parseTrustedUsers({ JARVIS_TRUSTED_USER_HEADER: ' X-Auth-Request-Email ', JARVIS_TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.7, fd00::/8, [::1], ::ffff:172.16.0.0/108', JARVIS_ADMIN_USERS: 'ops@example.com' })!;
    expect(c.header).toBe('x-auth-request-email');
    expect([...c.admins]).toEqual(['ops@example.com']);
    for (const peer of ['10.1.2.3', '::ffff:10.1.2.3', '192.168.1.7', 'fd00::5', 'fdff:ffff::1', '::1', '172.16.9.9', '::ffff:172.16.0.1']) expect(isTrustedPeer(c, peer), peer).toBe(true);
    for (const peer of ['11.0.0.1', '192.168.1.8', '::ffff:192.168.1.8', 'fe80::1%eth0', '127.0.0.1', '2001:db8::1', '172.32.0.1', '', undefined]) expect(isTrustedPeer(c, peer), String(peer)).toBe(false);
  });

  it('counts the sign-in header as authentication: listening beyond loopback needs no key then', () => {
    expect(() => exposureWarnings(loadConfig({ HOST: '0.0.0.0' }))).toThrow(/without API keys/);
    expect(exposureWarnings(loadConfig({ HOST: '0.0.0.0', ...SIGN_IN }))).toEqual([]);
  });
});

interface Reply {
  status: number;
  body: any;
}

/** One request from `from` (the proxy's address, or anyone's), with headers given as raw pairs (a header may come twice). */
function call(base: string, from: string, method: string, path: string, headers: Array<[string, string]> = [], body?: unknown): Promise<Reply> {
  const url = new URL(base);
  const raw = [['Host', url.host] as [string, string], ...headers, ...(body === undefined ? [] : ([['content-type', 'application/json']] as Array<[string, string]>))];
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, localAddress: from, agent: false, headers: raw.flat() }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? JSON.parse(text) : text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
const user = (name: string): [string, string] => ['X-Forwarded-User', name];
const bearer = (key: string): [string, string] => ['Authorization', `Bearer ${key}`];

const servers: TestJarvis[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
async function start(env: Record<string, string>): Promise<TestJarvis> {
  const j = await startTestJarvis({ JARVIS_BACKEND: 'demo', ...env });
  servers.push(j);
  return j;
}

describe('over HTTP', () => {
  it('a person the trusted proxy names owns their conversations; the header from anywhere else is ignored and logged once a minute', async () => {
    const j = await start({ ...SIGN_IN, JARVIS_API_KEYS: `ci:${KEY}` });
    const created = await call(j.url, PROXY, 'POST', '/v1/conversations', [user('alice')], { title: 'alice plans' });
    expect(created.status).toBe(201);
    const list = async (from: string, headers: Array<[string, string]>) => (await call(j.url, from, 'GET', '/v1/conversations', headers)).body.data?.map((c: { title: string }) => c.title);
    expect(await list(PROXY, [user('alice')])).toEqual(['alice plans']);
    expect(await list(PROXY, [user('bob')])).toEqual([]);
    // The proxy's user wins over a key sent along: the proxy authenticated them.
    expect(await list(PROXY, [user('alice'), bearer(KEY)])).toEqual(['alice plans']);
    expect(await list(PROXY, [user('  alice ')])).toEqual(['alice plans']);
    // From the proxy without the header: the key rules.
    expect(await list(PROXY, [bearer(KEY)])).toEqual([]);
    const none = await call(j.url, PROXY, 'GET', '/v1/conversations');
    expect(none.status).toBe(401);
    expect(none.body.error).toMatchObject({ code: 'sign_in_required', message: expect.stringContaining('X-Forwarded-User') });

    // Straight to Jarvis (127.0.0.1), X-Forwarded-For naming the proxy or not: the header is no one.
    for (const headers of [[user('alice')], [user('alice'), ['X-Forwarded-For', PROXY]]] as Array<Array<[string, string]>>) {
      const direct = await call(j.url, '127.0.0.1', 'GET', '/v1/conversations', headers);
      expect(direct.status).toBe(401);
      expect(direct.body.error.code).toBe('sign_in_required');
    }
    // With a key, the key's principal: none of alice's conversations.
    expect(await list('127.0.0.1', [user('alice'), bearer(KEY)])).toEqual([]);
    const logged = await waitForLog(j.logFile, 'trusted_header_ignored');
    expect(logged.level).toBe('WARN');
    expect(logged.fields).toMatchObject({ peer: '127.0.0.1', header: 'X-Forwarded-User', user: 'alice', why: 'not from JARVIS_TRUSTED_PROXIES' });
    // Four ignored headers from one address within the minute: one line (the log is written in
    // order: once the refusal of a wrong key after them is in it, so would be their lines).
    await call(j.url, '127.0.0.1', 'GET', '/health', [user('alice')]);
    await call(j.url, '127.0.0.1', 'GET', '/v1/models', [bearer('not-a-key-at-all-0123')]);
    await waitForLog(j.logFile, 'bad_request', { code: 'invalid_api_key' });
    expect(events(j.logFile, 'trusted_header_ignored')).toHaveLength(1);
  });

  it('an admin user sees what admins see; a name Jarvis cannot take is a 401 in words (a public route still answers)', async () => {
    const j = await start({ ...SIGN_IN, JARVIS_API_KEYS: `ci:${KEY}` });
    expect((await call(j.url, PROXY, 'POST', '/v1/conversations', [user('alice')], { title: 'mine' })).status).toBe(201);
    const refused = await call(j.url, PROXY, 'GET', '/v1/admin/users/alice/export', [user('bob')]);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('admin_required');
    const exported = await call(j.url, PROXY, 'GET', '/v1/admin/users/alice/export', [user('carol')]);
    expect(exported.status).toBe(200);
    expect(exported.body.conversations.map((c: { title: string }) => c.title)).toEqual(['mine']);
    // carol is an admin only as the proxy names her: "carol" from anywhere else is no one.
    expect((await call(j.url, '127.0.0.1', 'GET', '/v1/admin/users/alice/export', [user('carol')])).status).toBe(401);

    const long = await call(j.url, PROXY, 'GET', '/v1/conversations', [user('x'.repeat(257))]);
    expect(long.status).toBe(401);
    expect(long.body.error).toMatchObject({ code: 'invalid_user', message: expect.stringMatching(/X-Forwarded-User is 257 characters long; at most 256/) });
    const twice = await call(j.url, PROXY, 'GET', '/v1/conversations', [user('mallory'), user('alice')]);
    expect(twice.status).toBe(401);
    expect(twice.body.error.message).toMatch(/sent more than once/);
    expect((await call(j.url, PROXY, 'GET', '/health', [user('x'.repeat(300))])).status).toBe(200);
    // A UTF-8 name (Node reads header bytes as Latin-1; these are José's UTF-8 bytes).
    const jose = Buffer.from('José', 'utf8').toString('latin1');
    expect((await call(j.url, PROXY, 'POST', '/v1/conversations', [user(jose)], { title: 'de José' })).status).toBe(201);
    const his = await call(j.url, PROXY, 'GET', `/v1/admin/users/${encodeURIComponent('José')}/export`, [user('carol')]);
    expect(his.body.conversations.map((c: { title: string }) => c.title)).toEqual(['de José']);
  });

  it('the header alone turns authentication on: without keys, a request with neither user nor key is refused', async () => {
    const j = await start(SIGN_IN);
    const direct = await call(j.url, '127.0.0.1', 'GET', '/v1/models');
    expect(direct.status).toBe(401);
    expect(direct.body.error.message).toBe(
      "this Jarvis signs people in through its sign-in proxy: open it through the proxy's address (which sends X-Forwarded-User), or send an API key (Authorization: Bearer <key>)",
    );
    expect((await call(j.url, PROXY, 'GET', '/v1/models', [user('alice')])).status).toBe(200);
    expect((await call(j.url, '127.0.0.1', 'GET', '/health')).status).toBe(200);
  });
});
