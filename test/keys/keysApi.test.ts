import { readFileSync } from 'node:fs';
import OpenAI, { AuthenticationError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiKeyJson, CreatedApiKeyJson, MeJson } from '../../src/shared/team/admin.js';
import { chat } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, waitForLog } from '../helpers/log.js';
import { rawRequest } from '../helpers/rawHttp.js';

// Keys managed at run time (docs/team.md "3. Keys", docs/api.md "Keys"): the admin API and
// the guard, over real HTTP against one Jarvis.

const OPS = 'ops-key-0123456789abcdefgh';
const ALICE_ENV = 'alice-key-0123456789abcdef';

const servers: TestJarvis[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
async function start(env: Record<string, string> = {}): Promise<TestJarvis> {
  const j = await startTestJarvis(env);
  servers.push(j);
  return j;
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function call(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

async function create(url: string, body: unknown, headers: Record<string, string> = bearer(OPS)): Promise<CreatedApiKeyJson> {
  const res = await call(url, 'POST', '/v1/admin/keys', headers, body);
  if (res.status !== 201) throw new Error(`create: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as CreatedApiKeyJson;
}

describe('stored keys through the admin API', () => {
  it('a created key works at once, shown once; the list never shows it; revoked, it is refused at once saying so', async () => {
    const j = await start({ JARVIS_ADMIN_KEYS: `ops:${OPS}`, JARVIS_BACKEND: 'demo' });
    const created = await create(j.url, { name: 'alice laptop', owner: 'alice@example.com', limits: { rpm: 60, tokens_per_day: 200000 } });
    expect(created).toMatchObject({ object: 'api_key', name: 'alice laptop', owner: 'alice@example.com', role: 'user', revoked_at: null, expires_at: null, created_by: 'ops' });
    expect(created.id).toMatch(/^key_[0-9a-f]{20}$/);
    expect(created.key).toMatch(/^jk-[A-Za-z0-9_-]{43}$/);
    expect(created.prefix).toBe(created.key.slice(0, 10));
    expect(created.limits).toEqual({ rpm: 60, tokens_per_day: 200000 });

    // Works at once, as its owner, with the official client too.
    const me = await call(j.url, 'GET', '/v1/me', bearer(created.key));
    expect(me).toEqual({
      status: 200,
      body: { object: 'principal', name: 'alice@example.com', admin: false, via: 'key', key_name: 'alice laptop', key_id: created.id, limits: { rpm: 60, tokens_per_day: 200000 } } satisfies MeJson,
    });
    const client = new OpenAI({ baseURL: `${j.url}/v1`, apiKey: created.key, maxRetries: 0 });
    expect((await client.chat.completions.create({ model: 'jarvis-demo', messages: [{ role: 'user', content: 'hi' }] })).choices[0]?.finish_reason).toBe('stop');
    // A user key is no admin key.
    const forbidden = await call(j.url, 'GET', '/v1/admin/keys', bearer(created.key));
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toMatchObject({ code: 'admin_required', message: expect.stringContaining('"alice laptop" is not one') });

    // Listed and read back without the key, with its use recorded.
    const listed = await call(j.url, 'GET', '/v1/admin/keys', bearer(OPS));
    expect(listed.status).toBe(200);
    expect(listed.body.object).toBe('list');
    expect(listed.body.data).toHaveLength(1);
    const { key: _secret, ...shown } = created;
    expect(listed.body.data[0]).toEqual({ ...shown, last_used_at: expect.any(String) });
    expect(JSON.stringify(listed.body)).not.toContain(created.key);
    expect((await call(j.url, 'GET', `/v1/admin/keys/${created.id}`, bearer(OPS))).body.id).toBe(created.id);

    // Revoked: refused at once, in words; again: the same answer; listed only when asked.
    const revoked = await call(j.url, 'DELETE', `/v1/admin/keys/${created.id}`, bearer(OPS));
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).toEqual(expect.any(String));
    const refused = await call(j.url, 'GET', '/v1/models', bearer(created.key));
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatchObject({ code: 'api_key_revoked', message: `this key ("alice laptop") was revoked on ${revoked.body.revoked_at}; ask an admin of this Jarvis for a new one` });
    const err = await client.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    const again = await call(j.url, 'DELETE', `/v1/admin/keys/${created.id}`, bearer(OPS));
    expect(again).toEqual({ status: 200, body: revoked.body });
    expect((await call(j.url, 'GET', '/v1/admin/keys', bearer(OPS))).body.data).toEqual([]);
    expect((await call(j.url, 'GET', '/v1/admin/keys?include_revoked=true', bearer(OPS))).body.data.map((k: ApiKeyJson) => k.id)).toEqual([created.id]);
    expect((await call(j.url, 'DELETE', '/v1/admin/keys/key_nope', bearer(OPS))).status).toBe(404);

    // The log names keys, never shows one.
    expect((await waitForLog(j.logFile, 'key_created')).fields).toMatchObject({ key_id: created.id, owner: 'alice@example.com', role: 'user', by: 'ops' });
    expect(events(j.logFile, 'key_revoked', { key_id: created.id })).toHaveLength(1);
    expect(readFileSync(j.logFile, 'utf8')).not.toContain(created.key);
  });

  it('an expired key is refused saying when; an admin key may manage keys; PATCH changes limits', async () => {
    const j = await start({ JARVIS_ADMIN_KEYS: `ops:${OPS}`, JARVIS_BACKEND: 'demo' });
    const soon = new Date(Date.now() + 1500).toISOString();
    const admin = await create(j.url, { name: 'second-admin', role: 'admin', expires_at: soon });
    expect(admin.expires_at).toBe(soon);
    const user = await create(j.url, { name: 'bob' }, bearer(admin.key));
    expect(user).toMatchObject({ owner: 'bob', created_by: 'second-admin', role: 'user' });
    const patched = await call(j.url, 'PATCH', `/v1/admin/keys/${user.id}`, bearer(admin.key), { limits: { max_streams: 2 } });
    expect(patched.body.limits).toEqual({ max_streams: 2 });
    expect((await call(j.url, 'GET', '/v1/me', bearer(user.key))).body.limits).toEqual({ max_streams: 2 });
    await expect
      .poll(async () => (await call(j.url, 'GET', '/v1/me', bearer(admin.key))).body.error?.code, { timeout: 5000, interval: 100 })
      .toBe('api_key_expired');
    const refused = await call(j.url, 'GET', '/v1/me', bearer(admin.key));
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toBe(`this key ("second-admin") expired on ${soon}; ask an admin of this Jarvis for a new one`);
  });

  it('a key that expires while it streams: the stream ends cancelled/revoked', async () => {
    const j = await start({ JARVIS_ADMIN_KEYS: `ops:${OPS}` });
    j.fake!.plan = () => ({ tokens: Array.from({ length: 1000 }, (_, i) => `t${i} `), tokenMs: 10 });
    const expiresAt = Date.now() + 1500;
    const key = await create(j.url, { name: 'short-lived', expires_at: new Date(expiresAt).toISOString() });
    const running = chat(j.url, { session: 'expiring', headers: bearer(key.key) });
    await running.firstToken();
    const ended = await running.finished;
    expect(ended.at(-1)).toMatchObject({ type: 'cancelled', reason: 'revoked' });
    // Within the directory's half-second look at expiries.
    expect(Date.now() - expiresAt).toBeLessThan(1500);
    expect((await waitForLog(j.logFile, 'key_ended', { key_id: key.id })).fields).toMatchObject({ why: 'expired', streams: '1' });
  });

  it('names what is wrong with a body: 400s with the field', async () => {
    const j = await start({ JARVIS_ADMIN_KEYS: `ops:${OPS}` });
    const past = new Date(Date.now() - 1000).toISOString();
    const cases: Array<[unknown, string, RegExp]> = [
      [{}, 'name', /"name" must be 1-64 characters/],
      [{ name: 'x'.repeat(65) }, 'name', /"name" must be 1-64 characters/],
      [{ name: 'a b' }, 'owner', /give an "owner"/],
      [{ name: 'a', owner: 'has space' }, 'owner', /"owner" must be 1-128 characters/],
      [{ name: 'a', role: 'root' }, 'role', /"role" must be "user" or "admin"/],
      [{ name: 'a', expires_at: 'tomorrow' }, 'expires_at', /must be an ISO 8601 time/],
      [{ name: 'a', expires_at: past }, 'expires_at', /must be in the future/],
      [{ name: 'a', limits: { rpm: -1 } }, 'limits.rpm', /whole number, 0 or more/],
      [{ name: 'a', limits: { rpm: 1.5 } }, 'limits.rpm', /whole number, 0 or more/],
      [{ name: 'a', limits: { rps: 5 } }, 'limits.rps', /unknown limit "rps"; the limits are rpm, tpm, max_streams, tokens_per_day/],
      [{ name: 'a', limits: [1] }, 'limits', /must be an object/],
      [{ name: 'a', key: 'jk-mine' }, 'key', /unknown field "key"/],
    ];
    for (const [body, param, message] of cases) {
      const res = await call(j.url, 'POST', '/v1/admin/keys', bearer(OPS), body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_request', param, message: expect.stringMatching(message) });
    }
    expect((await call(j.url, 'GET', '/v1/admin/keys', bearer(OPS))).body.data).toEqual([]);
  });

  it('without any key Jarvis is open; the first stored key turns authentication on at once, and the last revoked turns it off (on loopback)', async () => {
    const j = await start({ JARVIS_BACKEND: 'demo' });
    // A container's name for the host is accepted only while every route needs a key (docs/security.md).
    const docker = async (key?: string) => (await rawRequest(j.url, { path: '/v1/models', headers: { host: 'host.docker.internal:8000', ...(key ? bearer(key) : {}) } })).status;
    expect(await docker()).toBe(403);
    expect(await call(j.url, 'GET', '/v1/me')).toEqual({ status: 200, body: { object: 'principal', name: '', admin: true, via: 'none', key_name: null, key_id: null, limits: null } });
    const first = await create(j.url, { name: 'ops', role: 'admin' }, {});
    expect(first.created_by).toBe('');
    const none = await call(j.url, 'GET', '/v1/models');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('missing_api_key');
    expect((await call(j.url, 'GET', '/v1/models', bearer(`jk-${'A'.repeat(43)}`))).body.error.code).toBe('invalid_api_key');
    expect((await call(j.url, 'GET', '/v1/me', bearer(first.key))).body).toMatchObject({ name: 'ops', admin: true, via: 'key', key_id: first.id });
    expect(await docker(first.key)).toBe(200);
    await call(j.url, 'DELETE', `/v1/admin/keys/${first.id}`, bearer(first.key));
    expect((await call(j.url, 'GET', '/v1/models')).status).toBe(200);
    expect(await docker()).toBe(403);
  });

  it('environment keys keep working beside stored ones; a stream of a revoked key ends cancelled/revoked, its stored answer stopped', async () => {
    const j = await start({ JARVIS_ADMIN_KEYS: `ops:${OPS}`, JARVIS_API_KEYS: `alice:${ALICE_ENV}` });
    j.fake!.plan = () => ({ tokens: Array.from({ length: 400 }, (_, i) => `t${i} `), tokenMs: 10 });
    const created = await create(j.url, { name: 'carol laptop', owner: 'carol' });
    // The same person's other key: the same owner, so the same conversations.
    const phone = await create(j.url, { name: 'carol phone', owner: 'carol' });
    const conv = await call(j.url, 'POST', '/v1/conversations', bearer(created.key), {});
    expect(conv.status).toBe(201);
    const answer = await fetch(`${j.url}/v1/conversations/${conv.body.id}/messages`, {
      method: 'POST',
      headers: { ...bearer(created.key), 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'hi' }),
    });
    const other = chat(j.url, { session: 'env-alice', headers: bearer(ALICE_ENV) });
    await other.firstToken();
    const reader = answer.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('"token"')) text += decoder.decode((await reader.read()).value, { stream: true });
    const started = performance.now();
    await call(j.url, 'DELETE', `/v1/admin/keys/${created.id}`, bearer(OPS));
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const ms = performance.now() - started;
    expect(JSON.parse(text.trim().split('\n').at(-1)!)).toMatchObject({ type: 'cancelled', reason: 'revoked' });
    expect(ms).toBeLessThan(1000);
    expect((await waitForLog(j.logFile, 'key_ended', { key_id: created.id })).fields).toMatchObject({ why: 'revoked', streams: '1' });
    // The stored answer ends stopped, as a Stop would end it; the person's other key reads it.
    await expect
      .poll(async () => (await call(j.url, 'GET', `/v1/conversations/${conv.body.id}`, bearer(phone.key))).body.messages?.at(-1)?.state, { timeout: 5000, interval: 50 })
      .toBe('stopped');
    // Alice's environment key and her stream were never touched.
    expect(other.terminal).toBeUndefined();
    expect((await call(j.url, 'GET', '/v1/me', bearer(ALICE_ENV))).body).toMatchObject({ name: 'alice', via: 'env_key', key_id: null });
    other.abort();
  });
});
