import { afterEach, describe, expect, it } from 'vitest';
import { chat, postJson } from '../../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';
import { events, waitForLog } from '../../helpers/log.js';
import { EMBEDDED_TEST_ENV, TEST_MODEL } from '../kindFakes.js';

// Stop at the engine (docs/embedded.md "Stop"): after a cancel the sequence's evaluation has ended
// and the sequence is back in the pool before the verdict is `confirmed`; the engine goes on
// serving; /health answers while it generates; shutdown stops what still runs.

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});

const long = (session: string) => ({ session, body: { model: TEST_MODEL, messages: [{ role: 'user', content: 'Tell me a long story' }], max_tokens: 100_000, seed: 3 } });

describe('Stop on the embedded engine', () => {
  it('a Stop mid-stream ends the stream, and the engine confirms its sequence is free; the next request streams', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'embedded', ...EMBEDDED_TEST_ENV, JARVIS_EMBEDDED_PARALLEL: '1' }, { fake: false });
    const call = chat(j.url, long('stop-me'));
    await call.firstToken();
    // /health answers while the engine generates: its evaluation runs off the event loop.
    const started = performance.now();
    const health = await fetch(`${j.url}/health`);
    expect(health.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(2000);

    const stop = await postJson(`${j.url}/v1/sessions/stop-me/stop`, {});
    expect(stop.body).toMatchObject({ stopped: true, engine: { verdict: 'confirmed', how: 'sequence_free' } });
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'cancelled', reason: 'stopped' });
    const stream = await call.streamId;
    const stopped = await waitForLog(j.logFile, 'engine_stopped', { trace: stream });
    expect(stopped.fields).toMatchObject({ verdict: 'confirmed', how: 'sequence_free', where: `sequence 0 of ${TEST_MODEL}` });
    expect(Number(stopped.fields.ms)).toBeGreaterThanOrEqual(0);
    const end = await waitForLog(j.logFile, 'stream_end', { trace: stream });
    expect(end.fields).toMatchObject({ reason: 'stopped', upstream_close: 'upstream_closed', cancel: 'confirmed', cancel_how: 'sequence_free' });

    // One sequence (JARVIS_EMBEDDED_PARALLEL=1): the next request gets it, so it really was given back.
    const next = chat(j.url, { session: 'after', body: { model: TEST_MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 } });
    await next.finished;
    expect(next.terminal).toMatchObject({ type: 'done', reason: 'length' });
  });

  it('a client that goes away mid-stream is a cancel the engine confirms too', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'embedded', ...EMBEDDED_TEST_ENV }, { fake: false });
    const call = chat(j.url, long('gone'));
    await call.firstToken();
    const stream = await call.streamId;
    call.abort();
    const stopped = await waitForLog(j.logFile, 'engine_stopped', { trace: stream });
    expect(stopped.fields).toMatchObject({ verdict: 'confirmed', how: 'sequence_free' });
  });

  it('shutdown stops a generation still running and closes within its grace', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'embedded', ...EMBEDDED_TEST_ENV }, { fake: false });
    const call = chat(j.url, long('until-shutdown'));
    await call.firstToken();
    const stream = await call.streamId;
    const { logFile } = j;
    const closing = j.close();
    j = undefined;
    await closing;
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'cancelled', reason: 'shutdown' });
    // The log is closed now: every line is in the file.
    expect(events(logFile, 'engine_stopped', { trace: stream })[0]?.fields).toMatchObject({ verdict: 'confirmed', how: 'sequence_free' });
    expect(events(logFile, 'shutdown_complete')[0]?.fields).toMatchObject({ clean: 'true' });
  });
});
