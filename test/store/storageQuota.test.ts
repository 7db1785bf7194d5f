import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROW_BYTES } from '../../src/store/quota.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { StreamReader } from '../helpers/streamReader.js';

// JARVIS_STORAGE_QUOTA_BYTES (docs/security.md "Retained answers and storage"): one
// key's conversations are bounded in the store; at the quota its writes get 403
// storage_quota_exceeded, other keys are unaffected, and deleting frees room.

const ALICE = 'alice-key-0123456789abcdef';
const BOB = 'bob-key-0123456789abcdef0';
const QUOTA = 20_000;
const auth = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

let j: TestJarvis;
beforeAll(async () => {
  j = await startTestJarvis({ JARVIS_API_KEYS: `alice:${ALICE},bob:${BOB}`, JARVIS_STORAGE_QUOTA_BYTES: String(QUOTA) });
  // Answers of 6,000 bytes.
  j.fake!.plan = () => ({ tokens: Array.from({ length: 60 }, (_, i) => `${i}`.padEnd(100, '.')), tokenMs: 1 });
});
afterAll(async () => {
  await j.close();
});

async function call(key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${j.url}${path}`, { method, headers: auth(key), body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function prompt(key: string, id: string, content: string): Promise<StreamReader> {
  const r = new StreamReader((signal) => fetch(`${j.url}/v1/conversations/${id}/messages`, { method: 'POST', headers: auth(key), body: JSON.stringify({ content }), signal }));
  await r.finished;
  return r;
}

async function settled(key: string, id: string): Promise<any> {
  for (const deadline = Date.now() + 10_000; ; ) {
    const conv = await call(key, 'GET', `/v1/conversations/${id}`);
    if (!conv.body.messages.some((m: { state: string }) => m.state === 'streaming')) return conv.body;
    if (Date.now() > deadline) throw new Error(`still streaming: ${JSON.stringify(conv.body)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the storage quota per key', () => {
  it('an answer that crosses the quota is stored whole; the next writes get 403 with the use and the quota; other keys write on; deleting frees room', async () => {
    const created = await call(ALICE, 'POST', '/v1/conversations', { system: 'x'.repeat(15_000) });
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    // 15,200 of 20,000 used: the prompt is let in, and its answer crosses the quota while it streams.
    const first = await prompt(ALICE, id, 'q');
    expect(first.status).toBe(200);
    expect(first.terminal?.type).toBe('done');
    const conv = await settled(ALICE, id);
    expect(conv.messages[1]).toMatchObject({ state: 'done' });
    expect(conv.messages[1].content).toHaveLength(6000);
    // The conversation (its title is now the first prompt, 'q'), the prompt, the answer.
    const used = ROW_BYTES + 15_000 + 1 + (ROW_BYTES + 1) + (ROW_BYTES + 6000);

    // At the quota: every write that adds text is refused, with the figures and the way out.
    const again = await prompt(ALICE, id, 'more');
    expect(again.status).toBe(403);
    const refused = await call(ALICE, 'POST', '/v1/conversations', { title: 'another' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('storage_quota_exceeded');
    expect(refused.body.error.message).toContain(`(${used} bytes)`);
    expect(refused.body.error.message).toContain(`(${QUOTA} bytes)`);
    expect(refused.body.error.message).toMatch(/delete conversations to free room/);
    expect((await call(ALICE, 'PATCH', `/v1/conversations/${id}`, { title: 'renamed' })).status).toBe(403);
    expect((await call(ALICE, 'POST', `/v1/conversations/${id}/regenerate`, {})).status).toBe(403);
    // Writes that add no text still go through; reading does.
    expect((await call(ALICE, 'PATCH', `/v1/conversations/${id}`, { temperature: 0.3 })).status).toBe(200);
    expect((await call(ALICE, 'GET', '/v1/conversations')).status).toBe(200);

    // Bob's quota is his own.
    const bobs = await call(BOB, 'POST', '/v1/conversations', { title: 'bob' });
    expect(bobs.status).toBe(201);
    const bobAnswer = await prompt(BOB, bobs.body.id, 'hello');
    expect(bobAnswer.status).toBe(200);
    expect(bobAnswer.terminal?.type).toBe('done');

    // Deleting frees room: Alice writes again.
    expect((await call(ALICE, 'DELETE', `/v1/conversations/${id}`)).status).toBe(200);
    const after = await call(ALICE, 'POST', '/v1/conversations', { title: 'fresh' });
    expect(after.status).toBe(201);
    expect((await prompt(ALICE, after.body.id, 'hi again')).status).toBe(200);
  }, 60_000);

  it('an import larger than the room left is refused whole, nothing stored', async () => {
    const messages = Array.from({ length: 30 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: 'y'.repeat(1000) }));
    const res = await call(BOB, 'POST', '/v1/conversations', { title: 'import', messages });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('storage_quota_exceeded');
    expect(res.body.error.message).toMatch(/this request would add .*\(36206 bytes\)/);
    const list = await call(BOB, 'GET', '/v1/conversations');
    expect(list.body.data.map((c: { title: string }) => c.title)).not.toContain('import');
  });
});
