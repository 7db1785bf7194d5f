import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { chat, postJson } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';

// Generation limits and bounded parsing (docs/limits.md), enforced by Jarvis whatever the
// upstream does: these fakes ignore max_tokens, go silent, never finish, or send
// events without end.

let j: TestJarvis;
afterEach(async () => {
  await j?.close();
});

const many = (prompt: string, n = 500, tokenMs = 2) => ({ tokens: Array.from({ length: n }, (_, i) => `${prompt}#${i} `), tokenMs });

describe('generation limits', () => {
  it('max_tokens: stops at N tokens, finish length, the upstream closed (Ollama and OpenAI upstreams)', async () => {
    for (const backend of ['ollama', 'openai']) {
      j = await startTestJarvis({ JARVIS_BACKEND: backend });
      j.fake!.plan = (p) => many(p); // ignores max_tokens
      const call = chat(j.url, { session: `mt-${backend}`, body: { messages: [{ role: 'user', content: 'A' }], max_tokens: 5 } });
      await call.finished;
      expect(call.events.filter((e) => e.type === 'token')).toHaveLength(5);
      expect(call.terminal).toMatchObject({ type: 'done', reason: 'length', usage: { completion_tokens: 5 } });
      const up = j.fake!.requests[0]!;
      await up.closed;
      expect(up.aborted).toBe(true);
      expect(up.completed).toBe(false);
      await j.close();
    }
  });

  it('JARVIS_MAX_TOKENS_DEFAULT caps a request that names no max_tokens (enforced by Jarvis, not sent upstream)', async () => {
    j = await startTestJarvis({ JARVIS_MAX_TOKENS_DEFAULT: '3', JARVIS_BACKEND: 'openai' });
    j.fake!.plan = (p) => many(p);
    const openai = new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const reply = await openai.chat.completions.create({ model: 'fake-llama:latest', messages: [{ role: 'user', content: 'B' }], stream: false });
    expect(reply.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'B#0 B#1 B#2 ' } });
    expect((j.fake!.requests[0]!.body as { max_tokens?: number }).max_tokens).toBeUndefined();
    const up = j.fake!.requests[0]!;
    await up.closed;
    expect(up.aborted).toBe(true);
  });

  it('JARVIS_STALL_TIMEOUT_MS: an upstream silent after its first tokens → error timeout, upstream closed', async () => {
    j = await startTestJarvis({ JARVIS_STALL_TIMEOUT_MS: '300' });
    j.fake!.plan = (p) => ({ ...many(p), fault: 'stall', faultAfter: 2 });
    const call = chat(j.url, { session: 'stall', prompt: 'S' });
    await call.finished;
    expect(call.events.filter((e) => e.type === 'token')).toHaveLength(2);
    expect(call.terminal).toMatchObject({ type: 'error', code: 'timeout' });
    expect((call.terminal as { message: string }).message).toMatch(/JARVIS_STALL_TIMEOUT_MS/);
    const up = j.fake!.requests[0]!;
    await up.closed;
    expect(up.aborted).toBe(true);
    await waitForLog(j.logFile, 'upstream_error', { code: 'timeout', limit: 'stall' });
  });

  it('JARVIS_MAX_STREAM_MS: a stream still going at its maximum duration → error timeout, upstream closed', async () => {
    j = await startTestJarvis({ JARVIS_MAX_STREAM_MS: '400' });
    j.fake!.plan = (p) => many(p, 1000, 20);
    const call = chat(j.url, { session: 'long', prompt: 'L' });
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'error', code: 'timeout' });
    expect((call.terminal as { message: string }).message).toMatch(/JARVIS_MAX_STREAM_MS/);
    expect(call.events.filter((e) => e.type === 'token').length).toBeLessThan(1000);
    const up = j.fake!.requests[0]!;
    await up.closed;
    expect(up.aborted).toBe(true);
    await waitForLog(j.logFile, 'upstream_error', { code: 'timeout', limit: 'max_stream_ms' });
  });

  it('stream:false: the reply stops accumulating at JARVIS_MAX_REPLY_BYTES (finish length), upstream closed', async () => {
    j = await startTestJarvis({ JARVIS_MAX_REPLY_BYTES: '10000' });
    j.fake!.plan = () => ({ tokens: Array.from({ length: 100_000 }, () => 'y'.repeat(99) + ' '), tokenMs: 0, burst: true });
    const res = await postJson(`${j.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'big' }], stream: false });
    expect(res.status).toBe(200);
    const content = res.body.choices[0].message.content as string;
    expect(res.body.choices[0].finish_reason).toBe('length');
    expect(content.length).toBeGreaterThanOrEqual(10_000);
    expect(content.length).toBeLessThanOrEqual(10_100);
    const up = j.fake!.requests[0]!;
    await up.closed;
    expect(up.aborted).toBe(true);
    await waitForLog(j.logFile, 'stream_truncated', { limit: 'reply_bytes' });
  });
});

describe('bounded parsing', () => {
  for (const fault of ['endless_line', 'endless_data_lines'] as const) {
    it(`OpenAI upstream, ${fault}: error upstream_error after 1 MiB without an event boundary, memory bounded`, async () => {
      j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
      j.fake!.plan = (p) => ({ ...many(p, 10), fault, faultAfter: 2 });
      global.gc?.();
      const heapBefore = process.memoryUsage().heapUsed;
      const call = chat(j.url, { session: fault, prompt: 'E' });
      await call.finished;
      expect(call.events.filter((e) => e.type === 'token')).toHaveLength(2);
      expect(call.terminal).toMatchObject({ type: 'error', code: 'upstream_error' });
      expect((call.terminal as { message: string }).message).toMatch(/without completing an event/);
      const up = j.fake!.requests[0]!;
      await up.closed;
      // Jarvis stopped reading soon after the limit: the fake could not push more than its socket buffers.
      expect(up.faultBytes).toBeLessThan(32 << 20);
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 << 20);
      await waitForLog(j.logFile, 'upstream_error', { code: 'upstream_error', limit: 'sse_event_bytes' });
    });
  }

  it('a body nested deeper than 64 levels is refused before it is parsed (400 json_too_deep)', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'demo' });
    const deep = '['.repeat(500_000) + ']'.repeat(500_000);
    const t = performance.now();
    const res = await postJson(`${j.url}/v1/chat/completions`, deep);
    console.log(`1 MB nested body refused in ${(performance.now() - t).toFixed(1)} ms`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'json_too_deep', type: 'invalid_request_error' } });
    // Brackets inside strings are text, not nesting.
    const ok = await postJson(`${j.url}/v1/chat/completions`, { messages: [{ role: 'user', content: '['.repeat(1000) + '\\"{' }], stream: false });
    expect(ok.status).toBe(200);
  });
});
