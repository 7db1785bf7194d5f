import { readFileSync } from 'node:fs';
import OpenAI, { AuthenticationError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { DebugStreamsResponse } from '../../src/server/operations/debug.js';
import { chat } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, waitForLog } from '../helpers/log.js';

// API keys (src/server/http/guards/apiKeys.ts) and sessions scoped to their key, over real HTTP.

const ALICE = 'alice-key-0123456789abcdef';
const BOB = 'bob-key-0123456789abcdefgh';
const OPS = 'ops-key-0123456789abcdefgh';
const KEYS = { JARVIS_API_KEYS: `alice:${ALICE},bob:${BOB}`, JARVIS_ADMIN_KEYS: `ops:${OPS}` };

const servers: TestJarvis[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
async function start(env: Record<string, string> = {}): Promise<TestJarvis> {
  const j = await startTestJarvis({ ...KEYS, ...env });
  servers.push(j);
  return j;
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const slow = (prompt: string) => ({ tokens: Array.from({ length: 400 }, (_, i) => `${prompt}#${i} `), tokenMs: 10 });

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text.startsWith('{') ? JSON.parse(text) : text };
}
async function post(url: string, headers: Record<string, string> = {}, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? null : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

describe('API keys', () => {
  it('every route but /health and the UI needs a key: 401 without or with a wrong one (OpenAI-shaped), 200 with one', async () => {
    const j = await start();
    const chatBody = { messages: [{ role: 'user', content: 'A' }], stream: false };
    for (const [name, call] of [
      ['models', (h: Record<string, string>) => get(`${j.url}/v1/models`, h)],
      ['chat', (h: Record<string, string>) => post(`${j.url}/v1/chat/completions`, h, chatBody)],
      ['stop', (h: Record<string, string>) => post(`${j.url}/v1/sessions/s1/stop`, h)],
      ['debug', (h: Record<string, string>) => get(`${j.url}/debug/streams`, h)],
    ] as const) {
      const none = await call({});
      expect(none.status, name).toBe(401);
      expect(none.body).toEqual({ error: { code: 'missing_api_key', message: expect.stringContaining('Authorization: Bearer'), type: 'invalid_request_error', param: null } });
      for (const wrong of [bearer('nope'), bearer(ALICE.slice(0, -1)), bearer(`${ALICE}x`), { authorization: ALICE }, { authorization: `Basic ${ALICE}` }]) {
        const res = await call(wrong);
        expect(res.status, `${name} ${wrong.authorization}`).toBe(401);
        expect(res.body.error.code).toBe('invalid_api_key');
      }
      expect((await call(bearer(ALICE))).status, name).toBe(200);
      expect((await call({ authorization: `bearer  ${BOB}` })).status, name).toBe(200);
    }
    const challenge = await get(`${j.url}/v1/models`);
    expect(challenge.headers.get('www-authenticate')).toBe('Bearer realm="jarvis"');
    // Public: the health check and the UI's files (the page must load to ask for a key).
    expect((await get(`${j.url}/health`)).status).toBe(200);
    expect((await get(`${j.url}/`)).status).toBe(200);
  });

  it('logs the key name on what it does and never a key, not even a wrong one', async () => {
    const j = await start({ JARVIS_BACKEND: 'demo' });
    await get(`${j.url}/v1/models`, bearer('wrong-key-that-must-not-be-logged'));
    const call = chat(j.url, { session: 'log-1' });
    await call.finished; // no key: 401
    expect(call.status).toBe(401);
    const res = await fetch(`${j.url}/v1/chat/completions`, { method: 'POST', headers: { ...bearer(ALICE), 'x-session-id': 'log-1' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }) });
    await res.text();
    const start_ = await waitForLog(j.logFile, 'stream_start', { session: 'log-1' });
    expect(start_.fields.key).toBe('alice');
    await waitForLog(j.logFile, 'stream_end', { session: 'log-1' });
    expect(events(j.logFile, 'bad_request', { status: '401', code: 'invalid_api_key' })).toHaveLength(1);
    const log = readFileSync(j.logFile, 'utf8');
    for (const secret of [ALICE, BOB, OPS, 'wrong-key-that-must-not-be-logged']) expect(log).not.toContain(secret);
  });

  it('the official openai client: AuthenticationError with a wrong key, answers with a right one', async () => {
    const j = await start({ JARVIS_BACKEND: 'demo' });
    const client = (apiKey: string) => new OpenAI({ baseURL: `${j.url}/v1`, apiKey, maxRetries: 0 });
    const err = await client('sk-wrong').chat.completions.create({ model: 'jarvis-demo', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).code).toBe('invalid_api_key');
    const ok = await client(ALICE).chat.completions.create({ model: 'jarvis-demo', messages: [{ role: 'user', content: 'hi' }], stream: false });
    expect(ok.choices[0]?.finish_reason).toBe('stop');
  });

  it('/metrics needs an admin key; /debug/streams shows a key its own streams and an admin all', async () => {
    const j = await start();
    j.fake!.plan = slow;
    const metrics = await get(`${j.url}/metrics`, bearer(ALICE));
    expect(metrics.status).toBe(403);
    expect(metrics.body.error.code).toBe('admin_required');
    expect((await get(`${j.url}/metrics`, bearer(OPS))).status).toBe(200);

    const a = chat(j.url, { session: 'dbg', headers: bearer(ALICE) });
    const b = chat(j.url, { session: 'dbg-b', headers: bearer(BOB) });
    await Promise.all([a.firstToken(), b.firstToken()]);
    const mine = (await get(`${j.url}/debug/streams`, bearer(ALICE))).body as DebugStreamsResponse;
    expect(mine.streams.map((s) => [s.key, s.session_id, s.stream_id])).toEqual([['alice', 'dbg', await a.streamId]]);
    const all = (await get(`${j.url}/debug/streams`, bearer(OPS))).body as DebugStreamsResponse;
    expect(all.streams.map((s) => `${s.key}/${s.session_id}`).sort()).toEqual(['alice/dbg', 'bob/dbg-b']);
    // /health, public, tells how many streams run and never which.
    const health = await get(`${j.url}/health`);
    expect(health.body.active_streams).toBe(2);
    const text = JSON.stringify(health.body);
    for (const id of ['dbg', await a.streamId, await b.streamId, 'alice', 'bob']) expect(text).not.toContain(id);
    a.abort();
    b.abort();
  });
});

describe('sessions belong to their key', () => {
  it('key B, with the same X-Session-Id, can neither supersede nor stop nor see key A’s stream', async () => {
    const j = await start();
    j.fake!.plan = (p) => (p === 'A' ? slow(p) : { tokens: ['B1 ', 'B2'], tokenMs: 5 });
    const a = chat(j.url, { session: 'shared', prompt: 'A', headers: bearer(ALICE) });
    await a.waitFor((e) => e.type === 'token' && e.seq >= 2);

    // Bob's prompt on "shared" is Bob's own session: it runs beside Alice's.
    const b = chat(j.url, { session: 'shared', prompt: 'B', headers: bearer(BOB) });
    expect((await b.finished).at(-1)).toMatchObject({ type: 'done' });
    // Bob's stop of "shared" stops nothing of Alice's; his /debug/streams does not show hers.
    expect(await post(`${j.url}/v1/sessions/shared/stop`, bearer(BOB))).toEqual({ status: 200, body: { stopped: false } });
    expect((await get(`${j.url}/debug/streams`, bearer(BOB))).body).toEqual({ count: 0, streams: [], lingering: [] });
    const before = a.events.length;
    await a.waitFor((e) => e.type === 'token' && e.seq >= before + 3);
    expect(a.terminal).toBeUndefined();
    expect(events(j.logFile, 'stream_cancelled')).toHaveLength(0);

    // Alice's own stop and supersede still work on her session.
    const a2 = chat(j.url, { session: 'shared', prompt: 'B', headers: bearer(ALICE) });
    expect((await a.finished).at(-1)).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    expect((await a2.finished).at(-1)).toMatchObject({ type: 'done' });
    await waitForLog(j.logFile, 'stream_end', { trace: await a2.streamId });
    const started = events(j.logFile, 'stream_start', { session: 'shared' }).map((l) => l.fields.key);
    expect(started).toEqual(['alice', 'bob', 'alice']);
  });

  it('on the Ollama API too: key B on /api/chat with the same X-Session-Id runs beside key A, and A supersedes only A', async () => {
    const j = await start();
    j.fake!.plan = (p) => (p === 'A' ? slow(p) : { tokens: ['B1 ', 'B2'], tokenMs: 5 });
    const ollamaChat = (key: string, prompt: string, signal?: AbortSignal) =>
      fetch(`${j.url}/api/chat`, {
        method: 'POST',
        signal,
        headers: { 'content-type': 'application/json', 'x-session-id': 'shared-ollama', ...bearer(key) },
        body: JSON.stringify({ model: 'fake-llama:latest', messages: [{ role: 'user', content: prompt }] }),
      });
    const a = await ollamaChat(ALICE, 'A');
    expect(a.status).toBe(200);
    const aText = a.text();
    await waitForLog(j.logFile, 'stream_start', { session: 'shared-ollama', key: 'alice' });
    const b = await ollamaChat(BOB, 'B');
    const bLines = (await b.text()).trim().split('\n').map((l) => JSON.parse(l) as { done: boolean; done_reason?: string });
    expect(bLines.at(-1)).toMatchObject({ done: true, done_reason: 'stop' });
    expect(events(j.logFile, 'stream_cancelled')).toHaveLength(0);
    const a2 = await ollamaChat(ALICE, 'B');
    const aLines = (await aText).trim().split('\n').map((l) => JSON.parse(l) as { done: boolean; done_reason?: string });
    expect(aLines.at(-1)).toMatchObject({ done: true, done_reason: 'stop', cancel_reason: 'superseded' });
    await a2.text();
  });

  it("without keys, a session is still one session whoever names it (and `user` does not name one)", async () => {
    const j = await startTestJarvis();
    servers.push(j);
    j.fake!.plan = slow;
    const a = chat(j.url, { body: { messages: [{ role: 'user', content: 'A' }], user: 'victim' } });
    await a.firstToken();
    // A body-only request naming the same `user` (what a cross-site form could send) is its own session.
    const b = chat(j.url, { body: { messages: [{ role: 'user', content: 'B' }], user: 'victim' } });
    await b.firstToken();
    expect(await post(`${j.url}/v1/sessions/victim/stop`)).toEqual({ status: 200, body: { stopped: false } });
    expect(a.terminal).toBeUndefined();
    // The log is written asynchronously: wait for both lines.
    await expect.poll(() => events(j.logFile, 'stream_start').length, { timeout: 10_000 }).toBe(2);
    const sessions = events(j.logFile, 'stream_start').map((l) => l.fields.session);
    expect(new Set(sessions).size).toBe(2);
    expect(sessions.every((s) => /^sess-/.test(s as string))).toBe(true);
    a.abort();
    b.abort();
  });
});
