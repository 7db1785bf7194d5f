import { afterEach, describe, expect, it } from 'vitest';
import { chat, postJson } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, waitForLog } from '../helpers/log.js';

// The interleavings around supersede (docs/api.md, the session rules): each must end cleanly, with one
// terminal event per reader and one stream_end per stream_start (checked in close()).

let j: TestJarvis;
afterEach(async () => {
  await j?.close();
});

const slow = (prompt: string, extra: object = {}) => ({ tokens: Array.from({ length: 500 }, (_, i) => `${prompt}#${i} `), tokenMs: 10, ...extra });

describe('supersede', () => {
  it('an upstream that ignores the abort: the new stream starts after JARVIS_CANCEL_TIMEOUT_MS, timeout logged', async () => {
    j = await startTestJarvis({ JARVIS_CANCEL_TIMEOUT_MS: '400' });
    j.fake!.plan = (prompt) => (prompt === 'A' ? slow('A', { ignoreAbort: true }) : { tokens: ['B1 ', 'B2'], tokenMs: 5 });
    const a = chat(j.url, { session: 'ignore', prompt: 'A' });
    await a.firstToken();
    const b = chat(j.url, { session: 'ignore', prompt: 'B' });
    // A's reader hears at once that it was superseded, although its upstream has not stopped.
    await a.finished;
    expect(a.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    await b.finished;
    expect(b.terminal?.type).toBe('done');
    expect(b.text).toBe('B1 B2');

    const aId = await a.streamId;
    const bId = await b.streamId;
    const timeout = await waitForLog(j.logFile, 'prev_stream_timeout_on_cancel', { trace: aId, new_trace: bId });
    // Node's timers count from the event loop's cached clock, up to a millisecond before
    // the registry reads performance.now(): a 400 ms timeout can measure 399.
    expect(Number(timeout.fields.waited_ms)).toBeGreaterThanOrEqual(398);
    expect(events(j.logFile, 'prev_stream_finished_cleanly')).toHaveLength(0);

    const upA = await j.fake!.waitForRequest((r) => r.prompt === 'A');
    const upB = await j.fake!.waitForRequest((r) => r.prompt === 'B');
    // A's upstream kept generating after the FIN, so Jarvis cut it off after its grace.
    await upA.closed;
    expect(upA.aborted).toBe(true);
    // B reached the upstream only after A's client had gone (how long after is waited_ms above;
    // a figure measured here would include the fake's own delay in seeing A's FIN).
    expect(upB.receivedAt).toBeGreaterThan(upA.clientGoneAt!);
    const endA = await waitForLog(j.logFile, 'stream_end', { trace: aId });
    expect(endA.fields).toMatchObject({ reason: 'superseded', upstream_close: 'forced' });
  });

  it('two prompts arriving together on one session never both start', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (prompt) => slow(prompt);
    const a = chat(j.url, { session: 'together', prompt: 'A' });
    const b = chat(j.url, { session: 'together', prompt: 'B' });
    await Promise.race([a.firstToken(), b.firstToken()]);
    // Whichever registered last owns the session; the other ends superseded.
    await postJson(`${j.url}/v1/sessions/together/stop`, '');
    await Promise.all([a.finished, b.finished]);
    const terminals = [a.terminal, b.terminal].map((t) => (t?.type === 'cancelled' ? t.reason : t?.type));
    expect(terminals.sort()).toEqual(['stopped', 'superseded']);
    // Both may have streamed (one after the other, if the second came late), never at once:
    // an upstream request starts only after the one before it has gone.
    const [up1, up2] = [...j.fake!.requests].sort((x, y) => x.receivedAt - y.receivedAt);
    if (up1 && up2) {
      await up1.closed;
      expect(up2.receivedAt).toBeGreaterThanOrEqual(up1.clientGoneAt!);
    }
  });

  it('Stop during a supersede: the waiting stream and the old one both end', async () => {
    j = await startTestJarvis({ JARVIS_CANCEL_TIMEOUT_MS: '5000' });
    j.fake!.plan = (prompt) => (prompt === 'A' ? slow('A', { ignoreAbort: true }) : slow(prompt));
    const a = chat(j.url, { session: 'stop-mid', prompt: 'A' });
    await a.firstToken();
    const b = chat(j.url, { session: 'stop-mid', prompt: 'B' });
    const bId = await b.streamId;
    await waitForLog(j.logFile, 'stream_cancelled', { reason: 'superseded' });
    // B is now waiting for A (whose upstream ignores the abort). Stop the session.
    const stop = await postJson(`${j.url}/v1/sessions/stop-mid/stop`, '');
    expect(stop.body).toMatchObject({ stopped: true, engine: { verdict: 'confirmed', how: 'not_started' } });
    await b.finished;
    expect(b.terminal).toMatchObject({ type: 'cancelled', reason: 'stopped' });
    expect(b.events.filter((e) => e.type === 'token')).toHaveLength(0);
    const abandoned = await waitForLog(j.logFile, 'prev_stream_wait_abandoned', { new_trace: bId });
    expect(abandoned.fields.reason).toBe('stopped');
    // B never opened an upstream request.
    expect(j.fake!.requests.map((r) => r.prompt)).toEqual(['A']);
  });

  it('supersede during start-up (before the first token): the old stream never streams', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (prompt) => (prompt === 'A' ? slow('A', { firstTokenMs: 5000 }) : { tokens: ['B'], tokenMs: 1 });
    const a = chat(j.url, { session: 'startup', prompt: 'A' });
    await j.fake!.waitForRequest((r) => r.prompt === 'A');
    const b = chat(j.url, { session: 'startup', prompt: 'B' });
    await Promise.all([a.finished, b.finished]);
    expect(a.events.map((e) => e.type)).toEqual(['status', 'cancelled']);
    expect(b.text).toBe('B');
    const upA = j.fake!.requests[0]!;
    await upA.closed;
    expect(upA.aborted).toBe(true);
    expect(upA.tokensSent).toBe(0);
  });

  it('a stream superseded while it waits (no upstream yet): its successor waits for the older one too', async () => {
    j = await startTestJarvis({ JARVIS_CANCEL_TIMEOUT_MS: '600' });
    j.fake!.plan = (prompt) => (prompt === 'C' ? { tokens: ['C'], tokenMs: 1 } : slow(prompt, { ignoreAbort: true }));
    const a = chat(j.url, { session: 'chain', prompt: 'A' });
    await a.firstToken();
    const b = chat(j.url, { session: 'chain', prompt: 'B' });
    await waitForLog(j.logFile, 'stream_cancelled', { reason: 'superseded' });
    const c = chat(j.url, { session: 'chain', prompt: 'C' });
    await Promise.all([a.finished, b.finished, c.finished]);
    expect(a.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    expect(b.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    expect(c.text).toBe('C');
    // B never reached the upstream; C waited for A (cut off after its grace), not only for B.
    expect(j.fake!.requests.find((r) => r.prompt === 'B')).toBeUndefined();
    const upA = j.fake!.requests.find((r) => r.prompt === 'A')!;
    await upA.closed;
    expect(upA.aborted).toBe(true);
    const [aId, bId, cId] = await Promise.all([a.streamId, b.streamId, c.streamId]);
    await waitForLog(j.logFile, 'prev_stream_wait_abandoned', { trace: aId, new_trace: bId });
    // C started only once A had ended, its upstream cut off after A's grace: that
    // is no clean finish, so it is logged and counted as a timeout.
    const line = await waitForLog(j.logFile, 'prev_stream_timeout_on_cancel', { trace: aId, new_trace: cId });
    // (`upstream_close=forced` when A was cut off before C's own deadline ran out, which is the usual order.)
    expect([undefined, 'forced']).toContain(line.fields.upstream_close);
    expect(events(j.logFile, 'prev_stream_finished_cleanly', { trace: aId })).toEqual([]);
    expect((await waitForLog(j.logFile, 'stream_end', { trace: aId })).fields.upstream_close).toBe('forced');
    const metrics = await (await fetch(`${j.url}/metrics`)).text();
    expect(metrics).toMatch(/^jarvis_supersede_wait_seconds_count\{outcome="timeout"\} 1$/m);
    expect(metrics).toMatch(/^jarvis_supersede_wait_seconds_count\{outcome="clean"\} 0$/m);
  });

  it('a client that disconnects before the first token: upstream closed, stream_end logged', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (prompt) => slow(prompt, { firstTokenMs: 5000 });
    const a = chat(j.url, { session: 'early-bye', prompt: 'A' });
    const streamId = await a.streamId;
    const upstream = await j.fake!.waitForRequest();
    a.abort();
    await upstream.closed;
    expect(upstream.aborted).toBe(true);
    const end = await waitForLog(j.logFile, 'stream_end', { trace: streamId });
    expect(end.fields).toMatchObject({ reason: 'client_closed', tokens: '0' });
  });

  it('a client that disconnects while its stream waits for the one it superseded', async () => {
    j = await startTestJarvis({ JARVIS_CANCEL_TIMEOUT_MS: '5000' });
    j.fake!.plan = (prompt) => slow(prompt, { ignoreAbort: prompt === 'A' });
    const a = chat(j.url, { session: 'wait-bye', prompt: 'A' });
    await a.firstToken();
    const b = chat(j.url, { session: 'wait-bye', prompt: 'B' });
    const bId = await b.streamId;
    await waitForLog(j.logFile, 'stream_cancelled', { reason: 'superseded' });
    b.abort();
    const end = await waitForLog(j.logFile, 'stream_end', { trace: bId });
    expect(end.fields.reason).toBe('client_closed');
    expect(j.fake!.requests.map((r) => r.prompt)).toEqual(['A']);
  });

  it('other sessions keep streaming while one session waits out a cancel timeout', async () => {
    j = await startTestJarvis({ JARVIS_CANCEL_TIMEOUT_MS: '3000' });
    j.fake!.plan = (prompt) => (prompt === 'A' ? slow('A', { ignoreAbort: true }) : { tokens: ['x', 'y', 'z'], tokenMs: 5 });
    const a = chat(j.url, { session: 'stuck', prompt: 'A' });
    await a.firstToken();
    const b = chat(j.url, { session: 'stuck', prompt: 'B' });
    await waitForLog(j.logFile, 'stream_cancelled', { reason: 'superseded' });
    const other = chat(j.url, { session: 'free', prompt: 'other' });
    await other.finished;
    expect(other.terminal?.type).toBe('done');
    // The other session finished while B was still waiting for A.
    expect(b.terminal).toBeUndefined();
    await b.finished;
    expect(b.terminal?.type).toBe('done');
  });
});
