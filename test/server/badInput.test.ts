import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError } from '../../src/shared/events.js';
import { chat, postJson } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, waitForLog } from '../helpers/log.js';

// Bad input gets a clear 4xx JSON error and a log line, and loses nothing: the
// server goes on (docs/api.md).

let j: TestJarvis;
beforeAll(async () => {
  j = await startTestJarvis();
});
afterAll(async () => {
  await j.close();
});

const cases: Array<{ name: string; body: string; headers?: Record<string, string>; status: number; code: string; says: RegExp }> = [
  { name: 'invalid JSON', body: '{"messages": [', status: 400, code: 'invalid_json', says: /not valid JSON/ },
  { name: 'empty body', body: '', status: 400, code: 'invalid_request', says: /body/ },
  { name: 'a JSON array', body: '[1,2]', status: 400, code: 'invalid_request', says: /object/ },
  { name: 'missing messages', body: '{"model":"x"}', status: 400, code: 'invalid_request', says: /messages/ },
  { name: 'empty messages', body: '{"messages":[]}', status: 400, code: 'invalid_request', says: /fewer than 1/ },
  { name: 'unknown role', body: '{"messages":[{"role":"wizard","content":"hi"}]}', status: 400, code: 'invalid_request', says: /role/ },
  { name: 'non-string content', body: '{"messages":[{"role":"user","content":42}]}', status: 400, code: 'invalid_request', says: /content/ },
  { name: 'missing content', body: '{"messages":[{"role":"user"}]}', status: 400, code: 'invalid_request', says: /content/ },
  { name: 'messages not an array', body: '{"messages":"hi"}', status: 400, code: 'invalid_request', says: /array/ },
  { name: 'bad temperature', body: '{"messages":[{"role":"user","content":"hi"}],"temperature":"hot"}', status: 400, code: 'invalid_request', says: /temperature/ },
  { name: 'invalid X-Session-Id', body: '{"messages":[{"role":"user","content":"hi"}]}', headers: { 'x-session-id': 'bad id with spaces' }, status: 400, code: 'invalid_session_id', says: /X-Session-Id/ },
  { name: 'too long X-Session-Id', body: '{"messages":[{"role":"user","content":"hi"}]}', headers: { 'x-session-id': 'x'.repeat(129) }, status: 400, code: 'invalid_session_id', says: /1-128/ },
];

describe('bad input on POST /v1/chat/completions', () => {
  for (const c of cases) {
    it(`${c.name} -> ${c.status} ${c.code}`, async () => {
      const res = await postJson(`${j.url}/v1/chat/completions`, c.body, c.headers);
      expect(res.status).toBe(c.status);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(res.body.error.code).toBe(c.code);
      expect(res.body.error.message).toMatch(c.says);
      await waitForLog(j.logFile, 'bad_request', { code: c.code });
    });
  }

  it('a body over 1 MiB -> 413 body_too_large', async () => {
    const big = JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(1_100_000) }] });
    const res = await postJson(`${j.url}/v1/chat/completions`, big);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('body_too_large');
    await waitForLog(j.logFile, 'bad_request', { code: 'body_too_large' });
  });

  it('an invalid session id on the stop endpoint -> 400 invalid_session_id', async () => {
    const res = await postJson(`${j.url}/v1/sessions/${encodeURIComponent('no spaces allowed')}/stop`, '');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_session_id');
  });

  it('an unknown route -> 404 JSON', async () => {
    const res = await fetch(`${j.url}/v1/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as ApiError).error.code).toBe('not_found');
  });

  it('the body is JSON whatever the Content-Type says (the documented curl sends a form type)', async () => {
    const res = await fetch(`${j.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-session-id': 'test-123' },
      body: '{"messages":[{"role":"user","content":"hello"}]}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-session-id')).toBe('test-123');
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0].type).toBe('status');
    expect(lines.at(-1).type).toBe('done');
  });

  it('no X-Session-Id: the server makes one and returns it', async () => {
    const call = chat(j.url, { prompt: 'hi' });
    await call.finished;
    const session = call.headers.get('x-session-id');
    expect(session).toMatch(/^sess-[0-9a-f-]{36}$/);
    expect(call.events.every((e) => e.session_id === session)).toBe(true);
  });

  it('after all of the above the server still streams', async () => {
    const call = chat(j.url, { session: 'after-bad', prompt: 'still here' });
    await call.finished;
    expect(call.terminal?.type).toBe('done');
    expect(events(j.logFile, 'request_failed')).toHaveLength(0);
  });
});
