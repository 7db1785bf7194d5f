import { afterEach, describe, expect, it } from 'vitest';
import { chat, postJson } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, waitForLog } from '../helpers/log.js';
import type { JarvisEvent } from '../../src/shared/events.js';

// The streaming test case matrix (docs/operations.md: Baseline, Stop, Rapid, Stress, Multi), over real
// HTTP, against a real Jarvis in front of the fake Ollama.

let j: TestJarvis;
afterEach(async () => {
  await j?.close();
});

function slowPlan(prompt: string) {
  return { tokens: Array.from({ length: 400 }, (_, i) => `${prompt}#${i} `), tokenMs: 10 };
}

describe('streaming test case matrix', () => {
  it('Baseline: tokens stream, with stream_id, session_id and seq, then one done', async () => {
    j = await startTestJarvis();
    const call = chat(j.url, { session: 'base-1', prompt: 'A' });
    const evts = await call.finished;
    expect(call.status).toBe(200);
    expect(call.headers.get('content-type')).toContain('application/x-ndjson');
    expect(call.headers.get('x-session-id')).toBe('base-1');
    const streamId = call.headers.get('x-stream-id');
    expect(streamId).toMatch(/^[0-9a-f]{16}$/);

    expect(evts[0]).toMatchObject({ type: 'status', status: 'thinking', stream_id: streamId, session_id: 'base-1', trace_id: streamId, model: 'fake-llama:latest' });
    const tokens = evts.filter((e) => e.type === 'token');
    expect(tokens.map((t) => (t.type === 'token' ? t.seq : -1))).toEqual(tokens.map((_, i) => i));
    expect(call.text).toBe(Array.from({ length: 20 }, (_, i) => `A#${i} `).join(''));
    for (const e of evts) expect(e).toMatchObject({ stream_id: streamId, session_id: 'base-1' });
    expect(evts.at(-1)).toMatchObject({ type: 'done', reason: 'stop', usage: { prompt_tokens: 7, completion_tokens: 20 } });
    expect(evts.filter((e) => ['done', 'cancelled', 'error'].includes(e.type))).toHaveLength(1);

    const start = await waitForLog(j.logFile, 'stream_start', { session: 'base-1' });
    expect(start.fields).toMatchObject({ trace: streamId, stream_id: streamId, model: 'fake-llama:latest' });
    const end = await waitForLog(j.logFile, 'stream_end', { trace: streamId! });
    expect(end.fields).toMatchObject({ session: 'base-1', reason: 'done', tokens: '20' });
    expect(j.fake!.requests[0]!.completed).toBe(true);
  });

  it('Stop (endpoint): the reader gets cancelled/stopped and the upstream request is closed', async () => {
    j = await startTestJarvis();
    j.fake!.plan = slowPlan;
    const call = chat(j.url, { session: 'stop-1', prompt: 'A' });
    await call.firstToken();
    const upstream = await j.fake!.waitForRequest();
    const stop = await postJson(`${j.url}/v1/sessions/stop-1/stop`, '');
    expect(stop).toMatchObject({ status: 200, body: { stopped: true } });
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'cancelled', reason: 'stopped' });
    await upstream.closed;
    expect(upstream.aborted).toBe(true);
    expect(upstream.tokensSent).toBeLessThan(400);
    const end = await waitForLog(j.logFile, 'stream_end', { session: 'stop-1' });
    expect(end.fields).toMatchObject({ reason: 'stopped', upstream_close: 'upstream_closed' });
    // Idempotent: nothing left to stop.
    expect(await postJson(`${j.url}/v1/sessions/stop-1/stop`, '')).toMatchObject({ status: 200, body: { stopped: false } });
  });

  it('Stop (client closes the connection): the upstream request is closed and stream_end logged', async () => {
    j = await startTestJarvis();
    j.fake!.plan = slowPlan;
    const call = chat(j.url, { session: 'stop-2', prompt: 'A' });
    await call.firstToken();
    const upstream = await j.fake!.waitForRequest();
    call.abort();
    await upstream.closed;
    expect(upstream.aborted).toBe(true);
    const end = await waitForLog(j.logFile, 'stream_end', { session: 'stop-2' });
    expect(end.fields.reason).toBe('client_closed');
    expect(events(j.logFile, 'stream_cancelled', { trace: end.fields.trace! })[0]?.fields.reason).toBe('client_closed');
  });

  it('Rapid: A, then B 50 ms later on one session: A superseded and its upstream closed, B completes', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (prompt) => (prompt === 'A' ? slowPlan(prompt) : { tokens: ['B1 ', 'B2 ', 'B3'], tokenMs: 5 });
    const a = chat(j.url, { session: 'rapid', prompt: 'A' });
    await a.streamId;
    await new Promise((r) => setTimeout(r, 50));
    const b = chat(j.url, { session: 'rapid', prompt: 'B' });
    const [aEvents, bEvents] = await Promise.all([a.finished, b.finished]);

    expect(a.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    expect(b.terminal).toMatchObject({ type: 'done', reason: 'stop' });
    expect(b.text).toBe('B1 B2 B3');
    const aId = await a.streamId;
    const bId = await b.streamId;
    expect(aId).not.toBe(bId);
    // No token of A leaks into B's stream and vice versa.
    expect(bEvents.every((e: JarvisEvent) => e.stream_id === bId)).toBe(true);
    expect(aEvents.every((e: JarvisEvent) => e.stream_id === aId)).toBe(true);

    const upA = await j.fake!.waitForRequest((r) => r.prompt === 'A');
    const upB = await j.fake!.waitForRequest((r) => r.prompt === 'B');
    await upA.closed;
    expect(upA.aborted).toBe(true);
    // B's upstream request started only after A's upstream had closed.
    expect(upB.receivedAt).toBeGreaterThanOrEqual(upA.closedAt!);

    const clean = await waitForLog(j.logFile, 'prev_stream_finished_cleanly', { trace: aId, new_trace: bId });
    expect(Number(clean.fields.waited_ms)).toBeGreaterThanOrEqual(0);
    expect(events(j.logFile, 'prev_stream_timeout_on_cancel')).toHaveLength(0);
  });

  it('Stress: A-E rapidly on one session: only E gets done, every other gets cancelled/superseded', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (prompt) => (prompt === 'E' ? { tokens: ['E1 ', 'E2'], tokenMs: 5 } : slowPlan(prompt));
    const calls = ['A', 'B', 'C', 'D', 'E'].map((prompt) => chat(j.url, { session: 'stress', prompt }));
    await Promise.all(calls.map((c) => c.finished));
    for (const c of calls.slice(0, 4)) expect(c.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    expect(calls[4]!.terminal).toMatchObject({ type: 'done' });
    expect(calls[4]!.text).toBe('E1 E2');
    // Every upstream request that was opened for A-D was closed before completing.
    for (const r of j.fake!.requests.filter((r) => r.prompt !== 'E')) {
      await r.closed;
      expect(r.completed).toBe(false);
    }
  });

  it('Stress: 50 back-to-back prompts on one session: only the newest completes', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (prompt) => (prompt === 'p49' ? { tokens: ['last'], tokenMs: 1 } : slowPlan(prompt));
    const calls = Array.from({ length: 50 }, (_, i) => chat(j.url, { session: 'stress-50', prompt: `p${i}` }));
    await Promise.all(calls.map((c) => c.finished));
    const done = calls.filter((c) => c.terminal?.type === 'done');
    expect(done).toHaveLength(1);
    expect(done[0]!.text).toBe('last');
    expect(calls.filter((c) => c.terminal?.type === 'cancelled')).toHaveLength(49);
    // Never two upstream generations of the session open at once.
    const reqs = j.fake!.requests;
    for (const r of reqs) await r.closed;
    const sorted = [...reqs].sort((a, b) => a.receivedAt - b.receivedAt);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.receivedAt).toBeGreaterThanOrEqual(sorted[i - 1]!.closedAt!);
  });

  it('Multi: two sessions stream in parallel and neither waits for the other', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (prompt) => ({ tokens: Array.from({ length: 30 }, (_, i) => `${prompt}${i} `), tokenMs: 10 });
    const one = chat(j.url, { session: 'multi-1', prompt: 'one' });
    const two = chat(j.url, { session: 'multi-2', prompt: 'two' });
    // Both are generating at the same time: each has tokens before either finishes.
    await Promise.all([one.firstToken(), two.firstToken()]);
    expect(one.terminal).toBeUndefined();
    expect(two.terminal).toBeUndefined();
    await Promise.all([one.finished, two.finished]);
    expect(one.terminal?.type).toBe('done');
    expect(two.terminal?.type).toBe('done');
    expect(one.text).toBe(Array.from({ length: 30 }, (_, i) => `one${i} `).join(''));
    expect(two.text).toBe(Array.from({ length: 30 }, (_, i) => `two${i} `).join(''));
    expect(events(j.logFile, 'prev_stream_finished_cleanly')).toHaveLength(0);
  });
});
