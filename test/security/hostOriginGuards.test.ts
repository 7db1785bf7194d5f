import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, waitForLog } from '../helpers/log.js';
import { rawRequest } from '../helpers/rawHttp.js';

// The Host allow-list (src/server/http/guards/hosts.ts) and the Origin / Sec-Fetch-Site check
// (guards/origins.ts) over real HTTP, with the headers browsers and attackers send.

const servers: TestJarvis[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
async function start(env: Record<string, string> = {}): Promise<TestJarvis> {
  const j = await startTestJarvis(env);
  servers.push(j);
  return j;
}

const CHAT = JSON.stringify({ messages: [{ role: 'user', content: 'A' }] });
const port = (j: TestJarvis) => new URL(j.url).port;

/** Every route Jarvis serves, as a page would hit it. */
const ROUTES = [
  { method: 'GET', path: '/' },
  { method: 'GET', path: '/health' },
  { method: 'GET', path: '/v1/models' },
  { method: 'POST', path: '/v1/chat/completions', body: CHAT },
  { method: 'POST', path: '/v1/sessions/victim/stop' },
  { method: 'GET', path: '/debug/streams' },
  { method: 'GET', path: '/metrics' },
];

describe('Host allow-list (DNS rebinding)', () => {
  it('answers 403 host_not_allowed on every route to a Host that is not Jarvis, with a log line and no stream', async () => {
    const j = await start();
    for (const route of ROUTES) {
      const res = await rawRequest(j.url, { ...route, headers: { host: `evil.test:${port(j)}`, 'content-type': 'text/plain' } });
      expect(res.status, `${route.method} ${route.path}`).toBe(403);
      expect(res.json()).toMatchObject({ error: { code: 'host_not_allowed', type: 'invalid_request_error' } });
    }
    await waitForLog(j.logFile, 'bad_request', { code: 'host_not_allowed', url: '/metrics' });
    expect(events(j.logFile, 'bad_request', { code: 'host_not_allowed' })).toHaveLength(ROUTES.length);
    expect(events(j.logFile, 'stream_start')).toHaveLength(0);
  });

  it('accepts loopback names and addresses, the bound address, and listed names (exact and *.domain)', async () => {
    const j = await start({ JARVIS_ALLOWED_HOSTS: 'jarvis.example.com, *.lan.example' });
    const p = port(j);
    for (const host of [`localhost:${p}`, `app.localhost:${p}`, `127.0.0.1:${p}`, `127.0.0.5:${p}`, `[::1]:${p}`, 'LOCALHOST', `jarvis.example.com:${p}`, 'JARVIS.example.com.', `box.lan.example:${p}`]) {
      const res = await rawRequest(j.url, { path: '/health', headers: { host } });
      expect(res.status, host).toBe(200);
    }
    for (const host of ['lan.example', 'evil.jarvis.example.com', 'jarvis.example.com.evil.test', 'localhost.evil.test', '127.0.0.1.evil.test', 'evil.test@127.0.0.1', '10.1.2.3']) {
      const res = await rawRequest(j.url, { path: '/health', headers: { host } });
      expect(res.status, host).toBe(403);
    }
  });

  it('JARVIS_ALLOWED_HOSTS=* accepts any Host, and says so in the log and /health', async () => {
    const j = await start({ JARVIS_ALLOWED_HOSTS: '*' });
    const res = await rawRequest(j.url, { path: '/health', headers: { host: 'anything.example' } });
    expect(res.status).toBe(200);
    expect(res.json().warnings).toEqual([expect.stringContaining('JARVIS_ALLOWED_HOSTS=*')]);
    expect((await waitForLog(j.logFile, 'security_warning')).fields.warning).toContain('DNS rebinding');
  });
});

describe('Origin and Sec-Fetch-Site check', () => {
  it('refuses a foreign Origin with 403 before reading the body (the body is never finished)', async () => {
    const j = await start();
    const res = await rawRequest(j.url, {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { origin: 'http://127.0.0.2:8080', 'content-type': 'text/plain' },
      body: CHAT.slice(0, 10),
      unfinishedLength: 100_000,
      timeoutMs: 5000,
    });
    expect(res.status).toBe(403);
    expect(res.json()).toMatchObject({ error: { code: 'origin_not_allowed' } });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    await waitForLog(j.logFile, 'bad_request', { code: 'origin_not_allowed', status: '403' });
    expect(events(j.logFile, 'stream_start')).toHaveLength(0);
  });

  it('refuses every route to a page on another origin or site, with or without Origin; curl (neither header) still works', async () => {
    const j = await start({ JARVIS_BACKEND: 'demo' });
    const browserish: Array<Record<string, string>> = [
      { origin: 'http://127.0.0.2:3000', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' },
      { origin: `http://localhost:${Number(port(j)) + 1}`, 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors' },
      { origin: 'null', 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' },
      { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' },
    ];
    for (const headers of browserish) {
      for (const route of ROUTES) {
        const res = await rawRequest(j.url, { ...route, headers: { ...headers, 'content-type': 'text/plain' } });
        expect(res.status, `${JSON.stringify(headers)} ${route.method} ${route.path}`).toBe(403);
      }
    }
    expect(events(j.logFile, 'stream_start')).toHaveLength(0);

    // The documented command, verbatim, with the real curl.
    const { stdout, stderr } = await promisify(execFile)('curl', ['-v', `${j.url}/v1/chat/completions`, '-H', 'X-Session-Id: test-123', '-d', '{"messages":[{"role":"user","content":"hello"}]}']);
    expect(stderr).toMatch(/< HTTP\/1.1 200/);
    expect(stdout.trim().split('\n').map((l) => JSON.parse(l).type).at(-1)).toBe('done');
    expect((await waitForLog(j.logFile, 'stream_end', { session: 'test-123' })).fields.reason).toBe('done');
  });

  it("passes Jarvis's own origin, same-origin and user-typed requests, and a top-level link from another site to the UI", async () => {
    const j = await start({ JARVIS_BACKEND: 'demo' });
    const own = `http://127.0.0.1:${port(j)}`;
    const chat = await rawRequest(j.url, { method: 'POST', path: '/v1/chat/completions', headers: { origin: own, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json', 'x-session-id': 'own-1' }, body: CHAT });
    expect(chat.status).toBe(200);
    // Through a TLS proxy that keeps Host, the page's origin is https://<same host>.
    const viaProxy = await rawRequest(j.url, { path: '/v1/models', headers: { host: 'localhost', origin: 'https://localhost' } });
    expect(viaProxy.status).toBe(200);
    const passing: Array<Record<string, string>> = [{ 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'none' }, { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }];
    for (const headers of passing) {
      expect((await rawRequest(j.url, { path: '/health', headers })).status, JSON.stringify(headers)).toBe(200);
    }
    // A navigation that is not a plain top-level GET (a cross-site form POST, an iframe) is still refused.
    expect((await rawRequest(j.url, { method: 'POST', path: '/v1/sessions/x/stop', headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' } })).status).toBe(403);
    expect((await rawRequest(j.url, { path: '/', headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' } })).status).toBe(403);
    // An origin that only looks like Jarvis's is not Jarvis's.
    expect((await rawRequest(j.url, { path: '/health', headers: { origin: `${own}.evil.test` } })).status).toBe(403);
    expect((await rawRequest(j.url, { path: '/health', headers: { origin: `ftp://127.0.0.1:${port(j)}` } })).status).toBe(403);
  });
});

describe('CORS for JARVIS_ALLOWED_ORIGINS', () => {
  it('answers the preflight and the request of an allowed origin, exposing the session and stream ids; others get no CORS', async () => {
    const j = await start({ JARVIS_BACKEND: 'demo', JARVIS_ALLOWED_ORIGINS: 'https://chat.example.com, http://localhost:*' });
    const origin = 'https://chat.example.com';
    const preflight = await rawRequest(j.url, {
      method: 'OPTIONS',
      path: '/v1/chat/completions',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-session-id' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(origin);
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    expect(preflight.headers['access-control-allow-headers']).toBe('authorization,content-type,x-session-id');
    expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();

    const res = await rawRequest(j.url, { method: 'POST', path: '/v1/chat/completions', headers: { origin, 'content-type': 'application/json', 'x-session-id': 'cors-1' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream: false }) });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(origin);
    expect(String(res.headers['access-control-expose-headers'])).toMatch(/x-session-id.*x-stream-id/);
    expect(res.json()).toMatchObject({ object: 'chat.completion' });

    const wildcard = await rawRequest(j.url, { path: '/v1/models', headers: { origin: 'http://localhost:5173' } });
    expect(wildcard.status).toBe(200);
    expect(wildcard.headers['access-control-allow-origin']).toBe('http://localhost:5173');

    const other = await rawRequest(j.url, { method: 'OPTIONS', path: '/v1/chat/completions', headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' } });
    expect(other.status).toBe(403);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('hardening headers', () => {
  it('are on every response: JSON, a streamed answer, a refusal, a 404', async () => {
    const j = await start({ JARVIS_BACKEND: 'demo' });
    const responses = [
      await rawRequest(j.url, { path: '/health' }),
      await rawRequest(j.url, { method: 'POST', path: '/v1/chat/completions', body: CHAT, headers: { 'x-session-id': 'hdr' } }),
      await rawRequest(j.url, { path: '/health', headers: { host: 'evil.test' } }),
      await rawRequest(j.url, { path: '/v1/nope' }),
    ];
    for (const res of responses) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
    }
    expect(responses[1]!.headers['content-type']).toContain('application/x-ndjson');
  });
});

describe('streamed replies carry the headers of every other reply', () => {
  // A streamed reply is written to the raw response after hijack(), which drops the
  // headers set through Fastify; it takes them from one place (src/server/http/streamHead.ts).
  const SHARED = /^(access-control-|vary$|content-security-policy$|cross-origin-|origin-agent-cluster$|referrer-policy$|x-content-type-options$|x-dns-prefetch-control$|x-download-options$|x-frame-options$|x-permitted-cross-domain-policies$|x-xss-protection$)/;
  const shared = (res: { headers: Record<string, string | string[] | undefined> }) =>
    Object.fromEntries(Object.entries(res.headers).filter(([name]) => SHARED.test(name)).sort(([a], [b]) => a.localeCompare(b)));

  it('SSE, NDJSON, Ollama NDJSON and a reattach reply: the same security and CORS headers as a normal reply, with an allowed Origin and without one', async () => {
    const j = await start({ JARVIS_BACKEND: 'demo', JARVIS_ALLOWED_ORIGINS: 'https://chat.example.com' });
    for (const origin of ['https://chat.example.com', undefined]) {
      const o: Record<string, string> = origin ? { origin } : {};
      const normal = await rawRequest(j.url, { path: '/v1/models', headers: o });
      expect(normal.status).toBe(200);
      const expected = shared(normal);
      expect(expected['x-frame-options']).toBe('DENY');
      expect(expected.vary).toBe('Origin');
      if (origin) {
        expect(expected['access-control-allow-origin']).toBe(origin);
        expect(expected['access-control-expose-headers']).toMatch(/x-session-id.*x-stream-id/);
      } else expect(expected['access-control-allow-origin']).toBeUndefined();

      const sse = await rawRequest(j.url, { method: 'POST', path: '/v1/chat/completions', headers: { ...o, 'content-type': 'application/json', 'x-session-id': `h-sse-${origin ? 1 : 0}` }, body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream: true }) });
      const ndjson = await rawRequest(j.url, { method: 'POST', path: '/v1/chat/completions', headers: { ...o, accept: 'application/x-ndjson', 'x-session-id': `h-nd-${origin ? 1 : 0}` }, body: CHAT });
      const ollama = await rawRequest(j.url, { method: 'POST', path: '/api/chat', headers: { ...o, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'jarvis-demo', messages: [{ role: 'user', content: 'hi' }] }) });
      expect(sse.headers['content-type'], sse.body).toContain('text/event-stream');
      expect(ndjson.headers['content-type']).toContain('application/x-ndjson');
      expect(ollama.headers['content-type']).toContain('application/x-ndjson');
      const streamId = String(sse.headers['x-stream-id']);
      const reattach = await rawRequest(j.url, { path: `/v1/streams/${streamId}/events`, headers: o });
      expect(reattach.status).toBe(200);
      expect(reattach.body).toContain('"type":"done"');
      for (const [name, res] of Object.entries({ sse, ndjson, ollama, reattach })) expect(shared(res), `${name}, origin ${origin}`).toEqual(expected);
    }
  });
});
