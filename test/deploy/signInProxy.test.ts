import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DebugStreamsResponse } from '../../src/server/operations/debug.js';
import { chat } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, waitForLog } from '../helpers/log.js';
import { haproxyUnavailable, startHaproxyWith, type TestBalancer } from '../helpers/services/haproxy.js';

// Sign-in behind an authenticating proxy, end to end (docs/team.md "5. Sign-in behind an
// authenticating proxy"): the real haproxy with the repository's deploy/haproxy-sign-in.cfg asks
// for a name and password and passes the name in X-Forwarded-User, connecting to Jarvis from
// 127.0.0.2, the one address Jarvis trusts. The test itself connects from 127.0.0.1: "anywhere else".

const CONFIG = fileURLToPath(new URL('../../deploy/haproxy-sign-in.cfg', import.meta.url));
// `openssl passwd -6` of alice-secret and bob-secret, as docs/team.md says to make them.
const PEOPLE = `userlist people
    user alice password $6$jarvisalice$kF1sQz0w8WXmYSgN/m/ThnRMxmXv1jogPTsZ8fN1cCSj02GnN5JLxQXjEArTG8q6DV7mzn1Z4BL6joXUbRcOG.
    user bob password $6$jarvisbob$HNV0zuvFrlbsHQr9J8p0OnZ7gcqJnahS/ZRVojXGDCsF0JuOE5sib6QWDuDR77jghflAYsMXApi.EmaeUgw6h.
`;
const basic = (name: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` });
const ALICE = basic('alice', 'alice-secret');
const BOB = basic('bob', 'bob-secret');

const skip = haproxyUnavailable();
let jarvis: TestJarvis;
let proxy: TestBalancer;

beforeAll(async () => {
  if (skip) return;
  jarvis = await startTestJarvis({ JARVIS_TRUSTED_USER_HEADER: 'X-Forwarded-User', JARVIS_TRUSTED_PROXIES: '127.0.0.2', JARVIS_ADMIN_USERS: 'alice' });
  const dir = mkdtempSync(join(tmpdir(), 'jarvis-sign-in-'));
  writeFileSync(join(dir, 'people.cfg'), PEOPLE);
  proxy = await startHaproxyWith([CONFIG, join(dir, 'people.cfg')], { JARVIS_1: new URL(jarvis.url).host, JARVIS_SOURCE: '127.0.0.2' }, async (url) => {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.status === 200 || `GET /health: ${res.status}`;
  });
}, 60_000);
afterAll(async () => {
  await proxy?.stop();
  await jarvis?.close();
});

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text.startsWith('{') ? JSON.parse(text) : text };
}
async function create(url: string, headers: Record<string, string>, title: string): Promise<number> {
  const res = await fetch(`${url}/v1/conversations`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ title }) });
  await res.text();
  return res.status;
}
const titles = async (url: string, headers: Record<string, string>) => ((await get(`${url}/v1/conversations`, headers)).body.data as Array<{ title: string }>).map((c) => c.title);

describe.skipIf(skip)('behind haproxy with the sign-in header', () => {
  it('two people each see only their own conversations; a header a client sends is replaced by the proxy', async () => {
    expect(await create(proxy.url, ALICE, "alice's trip")).toBe(201);
    expect(await create(proxy.url, BOB, "bob's recipes")).toBe(201);
    expect(await titles(proxy.url, ALICE)).toEqual(["alice's trip"]);
    expect(await titles(proxy.url, BOB)).toEqual(["bob's recipes"]);
    // Bob signed in, claiming to be alice: haproxy sets the header to the one it signed in.
    expect(await titles(proxy.url, { ...BOB, 'x-forwarded-user': 'alice' })).toEqual(["bob's recipes"]);
    // No one signed in: haproxy asks (its own 401); the health check stays open.
    const anonymous = await get(`${proxy.url}/v1/conversations`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm="Jarvis"/);
    expect(await get(`${proxy.url}/v1/conversations`, basic('alice', 'wrong'))).toMatchObject({ status: 401 });
    expect((await get(`${proxy.url}/health`)).status).toBe(200);
  });

  it('the same header sent straight to Jarvis is no one, and is logged', async () => {
    const direct = await get(`${jarvis.url}/v1/conversations`, { 'x-forwarded-user': 'alice' });
    expect(direct.status).toBe(401);
    expect(direct.body.error.code).toBe('sign_in_required');
    const line = await waitForLog(jarvis.logFile, 'trusted_header_ignored', { peer: '127.0.0.1' });
    expect(line.fields).toMatchObject({ header: 'X-Forwarded-User', user: 'alice' });
    // The proxy's own requests were never ignored.
    expect(events(jarvis.logFile, 'trusted_header_ignored', { peer: '127.0.0.2' })).toEqual([]);
  });

  it('an admin user (JARVIS_ADMIN_USERS) sees every stream and a person\'s data; another person only their own', async () => {
    jarvis.fake!.plan = () => ({ tokens: Array.from({ length: 400 }, (_, i) => `t${i} `), tokenMs: 10 });
    const bobs = chat(proxy.url, { session: 'bob-long', headers: BOB });
    await bobs.firstToken();
    const asAlice = (await get(`${proxy.url}/debug/streams`, ALICE)).body as DebugStreamsResponse;
    expect(asAlice.streams.map((s) => `${s.key}/${s.session_id}`)).toEqual(['bob/bob-long']);
    const asBob = (await get(`${proxy.url}/debug/streams`, BOB)).body as DebugStreamsResponse;
    expect(asBob.streams.map((s) => s.session_id)).toEqual(['bob-long']);
    bobs.abort();

    const refused = await get(`${proxy.url}/v1/admin/users/alice/export`, BOB);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('admin_required');
    const exported = await get(`${proxy.url}/v1/admin/users/bob/export`, ALICE);
    expect(exported.status).toBe(200);
    expect(exported.body).toMatchObject({ object: 'person_export', version: 1, name: 'bob' });
    expect(exported.body.conversations.map((c: { title: string }) => c.title)).toContain("bob's recipes");
  });
});
