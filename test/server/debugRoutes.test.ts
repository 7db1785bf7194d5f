import { afterEach, describe, expect, it } from 'vitest';
import { chat, postJson } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';
import type { DebugStreamsResponse } from '../../src/server/operations/debug.js';

// GET /debug/streams and GET /metrics follow streams as they start and end.

const servers: TestJarvis[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function start(env: Record<string, string> = {}): Promise<TestJarvis> {
  const j = await startTestJarvis(env);
  servers.push(j);
  return j;
}

async function debugStreams(url: string): Promise<DebugStreamsResponse> {
  const res = await fetch(`${url}/debug/streams`);
  expect(res.status).toBe(200);
  return (await res.json()) as DebugStreamsResponse;
}

async function metrics(url: string): Promise<{ text: string; value: (series: string) => number | undefined }> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const text = await res.text();
  return {
    text,
    value: (series) => {
      const line = text.split('\n').find((l) => l.startsWith(series + ' '));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    },
  };
}

const slow = (prompt: string) => ({ tokens: Array.from({ length: 400 }, (_, i) => `${prompt}#${i} `), tokenMs: 10 });

describe('/debug/streams and /metrics', () => {
  it('show a stream while it streams, and neither once it has ended', async () => {
    const j = await start();
    j.fake!.plan = slow;
    expect(await debugStreams(j.url)).toEqual({ count: 0, streams: [], lingering: [] });
    const before = await metrics(j.url);
    expect(before.value('jarvis_active_streams')).toBe(0);
    expect(before.value('jarvis_streams_started_total{upstream="ollama"}')).toBe(0);
    expect(before.text).toContain('process_cpu_user_seconds_total');
    expect(before.text).toContain('nodejs_eventloop_lag_seconds');

    const call = chat(j.url, { session: 'dbg-1', prompt: 'A' });
    await call.waitFor((e) => e.type === 'token' && e.seq >= 2);
    const live = await debugStreams(j.url);
    expect(live.count).toBe(1);
    expect(live.streams[0]).toMatchObject({ session_id: 'dbg-1', stream_id: await call.streamId, model: 'fake-llama:latest', state: 'streaming', upstream_open: true });
    expect(live.streams[0]!.tokens).toBeGreaterThanOrEqual(3);
    expect(live.streams[0]!.age_ms).toBeGreaterThanOrEqual(0);
    expect(live.streams[0]!.first_token_ms).not.toBeNull();
    const during = await metrics(j.url);
    expect(during.value('jarvis_active_streams')).toBe(1);
    expect(during.value('jarvis_streams_started_total{upstream="ollama"}')).toBe(1);

    await postJson(`${j.url}/v1/sessions/dbg-1/stop`, '');
    await call.finished;
    // stream_end is logged after the registry pop: from then on the stream is gone.
    await waitForLog(j.logFile, 'stream_end', { session: 'dbg-1' });
    expect(await debugStreams(j.url)).toEqual({ count: 0, streams: [], lingering: [] });
    const after = await metrics(j.url);
    expect(after.value('jarvis_active_streams')).toBe(0);
    expect(after.value('jarvis_streams_ended_total{reason="stopped",upstream="ollama"}')).toBe(1);
    expect(after.value('jarvis_streams_ended_total{reason="done",upstream="ollama"}')).toBe(0);
    expect(after.value('jarvis_time_to_first_token_seconds_count{upstream="ollama"}')).toBe(1);
    expect(after.value('jarvis_tokens_total')).toBe(call.events.filter((e) => e.type === 'token').length);
  });

  it('count supersede waits by outcome and upstream errors by code', async () => {
    const j = await start();
    j.fake!.plan = (prompt) => (prompt === 'A' ? slow(prompt) : prompt === 'X' ? { tokens: [], tokenMs: 1, fault: 'http_500' } : { tokens: ['b '], tokenMs: 5 });
    const a = chat(j.url, { session: 'dbg-2', prompt: 'A' });
    await a.firstToken();
    const b = chat(j.url, { session: 'dbg-2', prompt: 'B' });
    await Promise.all([a.finished, b.finished]);
    await chat(j.url, { session: 'dbg-3', prompt: 'X' }).finished;
    await waitForLog(j.logFile, 'stream_end', { session: 'dbg-3' });
    const m = await metrics(j.url);
    expect(m.value('jarvis_supersede_wait_seconds_count{outcome="clean"}')).toBe(1);
    expect(m.value('jarvis_supersede_wait_seconds_count{outcome="timeout"}')).toBe(0);
    expect(m.value('jarvis_streams_ended_total{reason="superseded",upstream="ollama"}')).toBe(1);
    expect(m.value('jarvis_streams_ended_total{reason="done",upstream="ollama"}')).toBe(1);
    expect(m.value('jarvis_streams_ended_total{reason="error",upstream="ollama"}')).toBe(1);
    expect(m.text).toMatch(/^jarvis_upstream_errors_total\{code="[a-z_]+",upstream="ollama"\} 1$/m);
  });

  it('keep each server\'s metrics apart (one registry per server)', async () => {
    const one = await start();
    const two = await start();
    await chat(one.url, { session: 'iso-1', prompt: 'A' }).finished;
    await waitForLog(one.logFile, 'stream_end', { session: 'iso-1' });
    expect((await metrics(one.url)).value('jarvis_streams_started_total{upstream="ollama"}')).toBe(1);
    expect((await metrics(two.url)).value('jarvis_streams_started_total{upstream="ollama"}')).toBe(0);
  });
});
