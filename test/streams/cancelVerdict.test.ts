import { afterEach, describe, expect, it } from 'vitest';
import { chat, postJson } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, waitForLog } from '../helpers/log.js';

// Stop verified at the engine (docs/operations.md "Stop at the engine"): after every cancel the
// stream's `stream_end` says whether the engine stopped, how long it took and what that rests on.
// The fake Ollama closes its side after Jarvis's half-close, as Ollama does; with `ignoreAbort`
// it keeps generating, as an engine that never noticed the client left.

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});

const slow = (prompt: string, extra: object = {}) => ({ tokens: Array.from({ length: 500 }, (_, i) => `${prompt}#${i} `), tokenMs: 10, ...extra });

async function streamEnd(logFile: string, trace: string): Promise<Record<string, unknown>> {
  return (await waitForLog(logFile, 'stream_end', { trace })).fields;
}

function expectConfirmed(fields: Record<string, unknown>, how = 'connection_closed'): void {
  expect(fields).toMatchObject({ cancel: 'confirmed', cancel_how: how });
  expect(Number(fields.cancel_ms)).toBeGreaterThanOrEqual(0);
  expect(Number(fields.cancel_ms)).toBeLessThan(2000); // the default cancel grace: confirmed comes before it
}

describe('the cancel verdict, Ollama backend', () => {
  it('Stop: confirmed by the connection closing, in stream_end and in the stop answer', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (p) => slow(p);
    const call = chat(j.url, { session: 'v-stop', prompt: 'A' });
    await call.firstToken();
    const stop = await postJson(`${j.url}/v1/sessions/v-stop/stop`, '');
    expect(stop.status).toBe(200);
    expect(stop.body).toMatchObject({ stopped: true, engine: { verdict: 'confirmed', how: 'connection_closed' } });
    expect(stop.body.engine.ms).toBeGreaterThanOrEqual(0);
    await call.finished;
    const fields = await streamEnd(j.logFile, await call.streamId);
    expect(fields.reason).toBe('stopped');
    expectConfirmed(fields);
    // The stop answer and the log tell the same verdict.
    expect(Number(fields.cancel_ms)).toBe(stop.body.engine.ms);
    expect((await j.fake!.waitForRequest()).aborted).toBe(true);
  });

  it('supersede, client disconnect, max_tokens, stall timeout, first-token timeout, max stream time: each confirmed', async () => {
    j = await startTestJarvis({ JARVIS_STALL_TIMEOUT_MS: '300', JARVIS_FIRST_TOKEN_TIMEOUT_MS: '300', JARVIS_MAX_STREAM_MS: '1500' });
    j.fake!.plan = (p) =>
      p === 'stall' ? slow(p, { fault: 'stall', faultAfter: 2 }) : p === 'mute' ? slow(p, { fault: 'hang_after_headers' }) : p === 'long' ? slow(p, { tokenMs: 50 }) : slow(p);

    const a = chat(j.url, { session: 'v-sup', prompt: 'A' });
    await a.firstToken();
    const b = chat(j.url, { session: 'v-sup', prompt: 'B', maxTokens: 3 });
    await Promise.all([a.finished, b.finished]);
    expect(a.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    expectConfirmed(await streamEnd(j.logFile, await a.streamId));
    // max_tokens: done/length to the client, but the engine was cut short all the same.
    expect(b.terminal).toMatchObject({ type: 'done', reason: 'length' });
    expectConfirmed(await streamEnd(j.logFile, await b.streamId));

    const gone = chat(j.url, { session: 'v-gone', prompt: 'C' });
    await gone.firstToken();
    gone.controller.abort();
    const goneId = await gone.streamId;
    const goneEnd = await streamEnd(j.logFile, goneId);
    expect(goneEnd.reason).toBe('client_closed');
    expectConfirmed(goneEnd);

    for (const prompt of ['stall', 'mute', 'long']) {
      const call = chat(j.url, { session: `v-${prompt}`, prompt });
      await call.finished;
      expect(call.terminal).toMatchObject({ type: 'error', code: 'timeout' });
      expectConfirmed(await streamEnd(j.logFile, await call.streamId));
    }
  });

  it('shutdown: confirmed', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (p) => slow(p);
    const call = chat(j.url, { session: 'v-shut', prompt: 'A' });
    await call.firstToken();
    const { logFile } = j;
    const closing = j.close();
    j = undefined;
    await closing;
    const fields = await streamEnd(logFile, await call.streamId);
    expect(fields.reason).toBe('shutdown');
    expectConfirmed(fields);
  });

  it('an engine that ignores the half-close: unconfirmed, grace_expired, once the grace has passed', async () => {
    j = await startTestJarvis({ JARVIS_CANCEL_TIMEOUT_MS: '400' });
    j.fake!.plan = (p) => slow(p, { ignoreAbort: true });
    const call = chat(j.url, { session: 'v-deaf', prompt: 'A' });
    await call.firstToken();
    const stop = await postJson(`${j.url}/v1/sessions/v-deaf/stop`, '');
    expect(stop.body).toMatchObject({ stopped: true, engine: { verdict: 'unconfirmed', how: 'grace_expired' } });
    const fields = await streamEnd(j.logFile, await call.streamId);
    expect(fields).toMatchObject({ reason: 'stopped', cancel: 'unconfirmed', cancel_how: 'grace_expired', upstream_close: 'forced' });
    // Node's timers count from the loop's cached clock: a 400 ms grace can measure a little under.
    expect(Number(fields.cancel_ms)).toBeGreaterThanOrEqual(395);
  });

  it('a completed reply and an upstream that failed by itself carry no verdict', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (p) => (p === 'fail' ? slow(p, { fault: 'fail_mid', faultAfter: 2 }) : { tokens: ['a ', 'b'], tokenMs: 1 });
    const ok = chat(j.url, { session: 'v-ok', prompt: 'ok' });
    await ok.finished;
    expect(ok.terminal?.type).toBe('done');
    const okEnd = await streamEnd(j.logFile, await ok.streamId);
    expect(okEnd.reason).toBe('done');
    expect(okEnd.cancel).toBeUndefined();
    expect(okEnd.cancel_how).toBeUndefined();

    const failed = chat(j.url, { session: 'v-fail', prompt: 'fail' });
    await failed.finished;
    expect(failed.terminal?.type).toBe('error');
    const failedEnd = await streamEnd(j.logFile, await failed.streamId);
    expect(failedEnd.reason).toBe('error');
    expect(failedEnd.cancel).toBeUndefined();
  });

  it('a stream cancelled while it waited for its predecessor: confirmed, not_started (no engine had its work)', async () => {
    j = await startTestJarvis({ JARVIS_CANCEL_TIMEOUT_MS: '1500' });
    j.fake!.plan = (p) => (p === 'A' ? slow(p, { ignoreAbort: true }) : slow(p));
    const a = chat(j.url, { session: 'v-wait', prompt: 'A' });
    await a.firstToken();
    const b = chat(j.url, { session: 'v-wait', prompt: 'B' });
    await a.finished; // superseded by B; A's upstream ignores it, so B waits
    const bId = await b.streamId;
    await waitForLog(j.logFile, 'stream_start', { trace: bId });
    const stop = await postJson(`${j.url}/v1/sessions/v-wait/stop`, '');
    expect(stop.body).toMatchObject({ stopped: true, engine: { verdict: 'confirmed', how: 'not_started', ms: 0 } });
    await b.finished;
    expect(await streamEnd(j.logFile, bId)).toMatchObject({ reason: 'stopped', cancel: 'confirmed', cancel_how: 'not_started', cancel_ms: '0' });
    expect(j.fake!.requests.map((r) => r.prompt)).toEqual(['A']);
  });

  it('/metrics: jarvis_cancels_total by backend and verdict, jarvis_engine_stop_seconds for the confirmed', async () => {
    j = await startTestJarvis({ JARVIS_CANCEL_TIMEOUT_MS: '300' });
    j.fake!.plan = (p) => slow(p, p === 'deaf' ? { ignoreAbort: true } : {});
    for (const prompt of ['one', 'two', 'deaf']) {
      const call = chat(j.url, { session: `m-${prompt}`, prompt });
      await call.firstToken();
      await postJson(`${j.url}/v1/sessions/m-${prompt}/stop`, '');
      await call.finished;
      await streamEnd(j.logFile, await call.streamId);
    }
    const text = await (await fetch(`${j.url}/metrics`)).text();
    const value = (series: string) => Number(text.split('\n').find((l) => l.startsWith(series + ' '))?.split(' ')[1]);
    expect(value('jarvis_cancels_total{backend="ollama",verdict="confirmed"}')).toBe(2);
    expect(value('jarvis_cancels_total{backend="ollama",verdict="unconfirmed"}')).toBe(1);
    expect(value('jarvis_engine_stop_seconds_count{backend="ollama"}')).toBe(2);
    expect(value('jarvis_engine_stop_seconds_bucket{le="10",backend="ollama"}')).toBe(2);
  });
});

describe('the cancel verdict, a backend with no probe of its engine', () => {
  it('OpenAI-compatible without /slots: unconfirmed, no_probe; stream_end waits no longer than the grace', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai', JARVIS_CANCEL_TIMEOUT_MS: '400' });
    j.fake!.plan = (p) => slow(p);
    const call = chat(j.url, { session: 'v-openai', prompt: 'A' });
    await call.firstToken();
    const stop = await postJson(`${j.url}/v1/sessions/v-openai/stop`, '');
    expect(stop.body).toMatchObject({ stopped: true, engine: { verdict: 'unconfirmed', how: 'no_probe' } });
    const fields = await streamEnd(j.logFile, await call.streamId);
    expect(fields).toMatchObject({ reason: 'stopped', cancel: 'unconfirmed', cancel_how: 'no_probe' });
    // Counted from the abort: a wait for a report that never comes ends with the grace (plus a busy machine's slack).
    expect(Number(fields.cancel_ms)).toBeLessThan(400 + 1000);
  });
});

describe('the cancel verdict, demo backend', () => {
  it('Stop: confirmed, generator_ended', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'demo', JARVIS_DEMO_TOKEN_MS: '20' });
    const call = chat(j.url, { session: 'v-demo', prompt: 'hello' });
    await call.firstToken();
    const stop = await postJson(`${j.url}/v1/sessions/v-demo/stop`, '');
    expect(stop.body).toMatchObject({ stopped: true, engine: { verdict: 'confirmed', how: 'generator_ended' } });
    await call.finished;
    const fields = await streamEnd(j.logFile, await call.streamId);
    expect(fields).toMatchObject({ reason: 'stopped', cancel: 'confirmed', cancel_how: 'generator_ended' });
    expect(events(j.logFile, 'stream_end').filter((l) => l.fields.cancel === 'unconfirmed')).toHaveLength(0);
  });

  it('a stop of a session with nothing running: stopped false, no engine', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'demo' });
    expect((await postJson(`${j.url}/v1/sessions/v-none/stop`, '')).body).toEqual({ stopped: false });
  });
});
