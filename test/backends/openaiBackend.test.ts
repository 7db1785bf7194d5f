import { afterEach, describe, expect, it } from 'vitest';
import type { ModelList } from '../../src/shared/events.js';
import type { FakeOpenAI } from '../helpers/fakes/fakeOpenAI.js';
import { chat, postJson } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';

// Jarvis with JARVIS_BACKEND=openai in front of a fake OpenAI-compatible server
// (real SSE over HTTP, the same controls as the fake Ollama).

let j: TestJarvis;
afterEach(async () => {
  await j?.close();
});

const slow = (prompt: string, extra: object = {}) => ({ tokens: Array.from({ length: 400 }, (_, i) => `${prompt}#${i} `), tokenMs: 10, ...extra });

describe('openai backend', () => {
  it('streams the upstream tokens, with usage, and sends the API key', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai', OPENAI_API_KEY: 'sk-test-123' });
    const health = await (await fetch(`${j.url}/health`)).json();
    expect(health).toMatchObject({ backend: 'openai', model: 'fake-llama:latest' });
    const call = chat(j.url, { session: 'oai-1', prompt: 'A' });
    await call.finished;
    expect(call.text).toBe(Array.from({ length: 20 }, (_, i) => `A#${i} `).join(''));
    expect(call.terminal).toMatchObject({ type: 'done', reason: 'stop', usage: { prompt_tokens: 7, completion_tokens: 20 } });
    expect((j.fake as FakeOpenAI).authorizations).toEqual(['Bearer sk-test-123']);
    const models = (await (await fetch(`${j.url}/v1/models`)).json()) as ModelList;
    expect(models.data.map((m) => m.id)).toEqual(['fake-llama:latest', 'fake-qwen:latest']);
  });

  it('supersede closes the old upstream request before the new one starts', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
    j.fake!.plan = (p) => (p === 'A' ? slow(p) : { tokens: ['B1 ', 'B2'], tokenMs: 5 });
    const a = chat(j.url, { session: 'oai-rapid', prompt: 'A' });
    await a.firstToken();
    const b = chat(j.url, { session: 'oai-rapid', prompt: 'B' });
    await Promise.all([a.finished, b.finished]);
    expect(a.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    expect(b.text).toBe('B1 B2');
    const upA = await j.fake!.waitForRequest((r) => r.prompt === 'A');
    await upA.closed;
    expect(upA.aborted).toBe(true);
    await waitForLog(j.logFile, 'prev_stream_finished_cleanly', { trace: await a.streamId });
  });

  it('stop closes the upstream request', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
    j.fake!.plan = slow;
    const call = chat(j.url, { session: 'oai-stop', prompt: 'A' });
    await call.firstToken();
    await postJson(`${j.url}/v1/sessions/oai-stop/stop`, '');
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'cancelled', reason: 'stopped' });
    const up = j.fake!.requests[0]!;
    await up.closed;
    expect(up.aborted).toBe(true);
    expect((await waitForLog(j.logFile, 'stream_end', { session: 'oai-stop' })).fields.upstream_close).toBe('upstream_closed');
  });

  it('an upstream that ignores the abort is cut off after the cancel timeout', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai', JARVIS_CANCEL_TIMEOUT_MS: '300' });
    j.fake!.plan = (p) => slow(p, { ignoreAbort: p === 'A' });
    const a = chat(j.url, { session: 'oai-ignore', prompt: 'A' });
    await a.firstToken();
    const b = chat(j.url, { session: 'oai-ignore', prompt: 'B' });
    await b.firstToken();
    await postJson(`${j.url}/v1/sessions/oai-ignore/stop`, '');
    await Promise.all([a.finished, b.finished]);
    await waitForLog(j.logFile, 'prev_stream_timeout_on_cancel', { trace: await a.streamId });
    expect((await waitForLog(j.logFile, 'stream_end', { trace: await a.streamId })).fields.upstream_close).toBe('forced');
  });

  const faults = [
    { name: 'fails mid-stream', plan: { tokens: ['a ', 'b ', 'c '], tokenMs: 2, fault: 'fail_mid' as const, faultAfter: 2 }, code: 'upstream_error', text: 'a b ', says: /^The OpenAI-compatible server stopped answering mid-reply \(connection reset\)\. Retry when it is back\.$/, detail: /ECONNRESET/ },
    { name: 'sends garbage', plan: { tokens: ['a ', 'b '], tokenMs: 2, fault: 'garbage' as const, faultAfter: 1 }, code: 'upstream_error', text: 'a ', says: /not JSON/ },
    { name: 'sends an error event', plan: { tokens: ['a ', 'b '], tokenMs: 2, fault: 'error_line' as const, faultAfter: 1 }, code: 'upstream_error', text: 'a ', says: /an error was encountered/ },
    { name: 'answers HTTP 500', plan: { tokens: [], tokenMs: 1, fault: 'http_500' as const }, code: 'upstream_error', text: '', says: /HTTP 500/ },
  ];
  for (const f of faults) {
    it(`upstream ${f.name}: error ${f.code}`, async () => {
      j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
      j.fake!.plan = () => f.plan;
      const call = chat(j.url, { session: 'oai-fault', prompt: 'x' });
      await call.finished;
      expect(call.text).toBe(f.text);
      expect(call.terminal).toMatchObject({ type: 'error', code: f.code });
      if (f.says) expect(call.terminal?.type === 'error' && call.terminal.message).toMatch(f.says);
      const logged = await waitForLog(j.logFile, 'upstream_error', { session: 'oai-fault' });
      if (f.detail) expect(logged.fields.detail).toMatch(f.detail);
    });
  }

  it('upstream hangs: error timeout, and the upstream request is released', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai', JARVIS_FIRST_TOKEN_TIMEOUT_MS: '300' });
    j.fake!.plan = () => ({ tokens: ['x'], tokenMs: 1, fault: 'hang_after_headers' });
    const call = chat(j.url, { session: 'oai-hang', prompt: 'x' });
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'error', code: 'timeout' });
    await j.fake!.requests[0]!.closed;
  });

  it('unknown model: error model_not_found; upstream down: upstream_unavailable', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
    const missing = chat(j.url, { session: 'oai-model', prompt: 'x', model: 'gpt-nope' });
    await missing.finished;
    expect(missing.terminal).toMatchObject({ type: 'error', code: 'model_not_found' });
    await j.fake!.stop();
    const down = chat(j.url, { session: 'oai-down', prompt: 'x' });
    await down.finished;
    expect(down.terminal).toMatchObject({ type: 'error', code: 'upstream_unavailable' });
    expect(down.terminal?.type === 'error' && down.terminal.message).toMatch(
      /^Jarvis cannot reach the OpenAI-compatible server at http:\/\/127\.0\.0\.1:\d+\/v1 \(connection refused\)\. Retry when it is running\.$/,
    );
    const logged = await waitForLog(j.logFile, 'upstream_error', { session: 'oai-down', code: 'upstream_unavailable' });
    expect(logged.fields.detail).toMatch(/ECONNREFUSED/);
    j.fake = undefined;
  });
});
