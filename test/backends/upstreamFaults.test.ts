import { afterEach, describe, expect, it } from 'vitest';
import { chat, postJson } from '../helpers/chatClient.js';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';

// An upstream that is down, fails, sends garbage or hangs: the reader always gets
// one `error` event with the right code, the upstream connection is released,
// stream_end is logged, and the server goes on serving.

let j: TestJarvis;
afterEach(async () => {
  await j?.close();
});

async function expectStillServing(t: TestJarvis): Promise<void> {
  t.fake!.plan = () => ({ tokens: ['still ', 'fine'], tokenMs: 1 });
  const next = chat(t.url, { session: 'after-fault', prompt: 'next' });
  await next.finished;
  expect(next.terminal?.type).toBe('done');
  expect(next.text).toBe('still fine');
}

describe('upstream faults', () => {
  it('upstream down: error upstream_unavailable in words, the errno kept in the log', async () => {
    j = await startTestJarvis();
    await j.fake!.stop();
    const call = chat(j.url, { session: 'down', prompt: 'hi' });
    await call.finished;
    expect(call.events.map((e) => e.type)).toEqual(['status', 'error']);
    expect(call.terminal).toMatchObject({ type: 'error', code: 'upstream_unavailable' });
    const message = call.terminal?.type === 'error' ? call.terminal.message : '';
    expect(message).toMatch(/^Jarvis cannot reach Ollama at http:\/\/127\.0\.0\.1:\d+ \(connection refused\)\. Retry when it is running\.$/);
    expect(message).not.toMatch(/ECONN|errno/);
    const logged = await waitForLog(j.logFile, 'upstream_error', { session: 'down', code: 'upstream_unavailable' });
    expect(logged.fields.error).toBe(message);
    expect(logged.fields.detail).toMatch(/^connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    const end = await waitForLog(j.logFile, 'stream_end', { session: 'down' });
    expect(end.fields).toMatchObject({ reason: 'error', error_code: 'upstream_unavailable' });
    j.fake = undefined;
  });

  it('upstream resets the connection mid-stream: tokens so far, then error upstream_error in words, the errno kept in the log and the event\'s detail', async () => {
    j = await startTestJarvis();
    j.fake!.plan = () => ({ tokens: ['a ', 'b ', 'c ', 'd '], tokenMs: 2, fault: 'fail_mid', faultAfter: 2 });
    const call = chat(j.url, { session: 'mid', prompt: 'hi' });
    await call.finished;
    expect(call.text).toBe('a b ');
    expect(call.terminal).toMatchObject({ type: 'error', code: 'upstream_error', message: 'Ollama stopped answering mid-reply (connection reset). Retry when it is back.' });
    expect((call.terminal as { detail?: string }).detail).toContain('ECONNRESET');
    const logged = await waitForLog(j.logFile, 'upstream_error', { session: 'mid', code: 'upstream_error' });
    expect(logged.fields.detail).toContain('ECONNRESET');
    await expectStillServing(j);
  });

  it('upstream sends garbage: error upstream_error naming the bad line', async () => {
    j = await startTestJarvis();
    j.fake!.plan = () => ({ tokens: ['a ', 'b '], tokenMs: 2, fault: 'garbage', faultAfter: 1 });
    const call = chat(j.url, { session: 'garbage', prompt: 'hi' });
    await call.finished;
    expect(call.text).toBe('a ');
    expect(call.terminal).toMatchObject({ type: 'error', code: 'upstream_error' });
    expect(call.terminal?.type === 'error' && call.terminal.message).toContain('not JSON');
    await expectStillServing(j);
  });

  it("upstream sends Ollama's error line mid-stream: error upstream_error with its message", async () => {
    j = await startTestJarvis();
    j.fake!.plan = () => ({ tokens: ['a ', 'b '], tokenMs: 2, fault: 'error_line', faultAfter: 1 });
    const call = chat(j.url, { session: 'errline', prompt: 'hi' });
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'error', code: 'upstream_error' });
    expect(call.terminal?.type === 'error' && call.terminal.message).toContain('an error was encountered while running the model');
  });

  it('upstream answers HTTP 500: error upstream_error', async () => {
    j = await startTestJarvis();
    j.fake!.plan = () => ({ tokens: [], tokenMs: 1, fault: 'http_500' });
    const call = chat(j.url, { session: 'h500', prompt: 'hi' });
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'error', code: 'upstream_error' });
    expect(call.terminal?.type === 'error' && call.terminal.message).toContain('HTTP 500');
    await expectStillServing(j);
  });

  it('unknown model: error model_not_found', async () => {
    j = await startTestJarvis();
    const call = chat(j.url, { session: 'nomodel', prompt: 'hi', model: 'no-such-model' });
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'error', code: 'model_not_found' });
    expect(call.events[0]).toMatchObject({ type: 'status', model: 'no-such-model' });
  });

  it('upstream hangs before answering: error timeout, upstream released', async () => {
    j = await startTestJarvis({ JARVIS_FIRST_TOKEN_TIMEOUT_MS: '300' });
    j.fake!.plan = () => ({ tokens: ['x'], tokenMs: 1, fault: 'hang_before_headers' });
    const call = chat(j.url, { session: 'hang1', prompt: 'hi' });
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'error', code: 'timeout' });
    const up = j.fake!.requests[0]!;
    await up.closed;
    expect(up.aborted).toBe(true);
    await waitForLog(j.logFile, 'stream_end', { session: 'hang1', reason: 'error', error_code: 'timeout' });
    await expectStillServing(j);
  });

  it('upstream hangs after its headers: error timeout, upstream released', async () => {
    j = await startTestJarvis({ JARVIS_FIRST_TOKEN_TIMEOUT_MS: '300' });
    j.fake!.plan = () => ({ tokens: ['x'], tokenMs: 1, fault: 'hang_after_headers' });
    const call = chat(j.url, { session: 'hang2', prompt: 'hi' });
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'error', code: 'timeout' });
    await j.fake!.requests[0]!.closed;
    await expectStillServing(j);
  });

  it('a hanging upstream that also ignores the abort is cut off and the stream still ends', async () => {
    j = await startTestJarvis({ JARVIS_FIRST_TOKEN_TIMEOUT_MS: '200', JARVIS_CANCEL_TIMEOUT_MS: '300' });
    j.fake!.plan = () => ({ tokens: ['x'], tokenMs: 1, fault: 'hang_after_headers', ignoreAbort: true });
    const call = chat(j.url, { session: 'hang3', prompt: 'hi' });
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'error', code: 'timeout' });
    const end = await waitForLog(j.logFile, 'stream_end', { session: 'hang3' });
    expect(end.fields.upstream_close).toBe('forced');
    await waitForLog(j.logFile, 'upstream_killed', { session: 'hang3' });
  });

  it('no model named and none known: 502 upstream_unavailable while Ollama is down, 400 no_model when it has none', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'ollama', OLLAMA_HOST: 'http://127.0.0.1:9' }, { fake: false });
    const health = (await (await fetch(`${j.url}/health`)).json()) as { backend: string; model: string | null };
    expect(health).toMatchObject({ backend: 'ollama', model: null });
    const down = await postJson(`${j.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }] });
    expect(down.status).toBe(502);
    expect(down.body.error.code).toBe('upstream_unavailable');
    // With a model named, the stream starts and reports the upstream as an event.
    const named = chat(j.url, { session: 'named', prompt: 'hi', model: 'llama3.2' });
    await named.finished;
    expect(named.terminal).toMatchObject({ type: 'error', code: 'upstream_unavailable' });
    await j.close();

    // An Ollama with no model pulled, there from the start.
    const empty = await new FakeOllama().start();
    empty.models = [];
    try {
      j = await startTestJarvis({ JARVIS_BACKEND: 'ollama', OLLAMA_HOST: empty.url }, { fake: false });
      const none = await postJson(`${j.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }] });
      expect(none.status).toBe(400);
      expect(none.body.error.code).toBe('no_model');
      expect(none.body.error.message).toMatch(/JARVIS_MODEL/);
    } finally {
      await empty.stop();
    }
  });

  it('kept-alive connections: an upstream closing idle ones, or one closing as it is reused, costs no error', async () => {
    j = await startTestJarvis();
    j.fake!.keepAliveTimeoutMs = 50;
    const first = chat(j.url, { session: 'ka', prompt: 'one' });
    await first.finished;
    // The fake closes the idle connection; the next request must open a new one.
    await expect.poll(() => j.fake!.openConnections, { timeout: 5000, interval: 10 }).toBe(0);
    const second = chat(j.url, { session: 'ka', prompt: 'two' });
    await second.finished;
    expect(second.terminal?.type).toBe('done');

    // Now the race: the pooled connection is dropped unanswered just as it is reused.
    j.fake!.keepAliveTimeoutMs = 5000;
    const warm = chat(j.url, { session: 'ka', prompt: 'three' });
    await warm.finished;
    j.fake!.dropNextReusedRequest = true;
    const raced = chat(j.url, { session: 'ka', prompt: 'four' });
    await raced.finished;
    expect(j.fake!.dropNextReusedRequest).toBe(false); // the drop did happen
    expect(raced.terminal?.type).toBe('done');
    expect(raced.text).toBe(Array.from({ length: 20 }, (_, i) => `four#${i} `).join(''));
  });
});

