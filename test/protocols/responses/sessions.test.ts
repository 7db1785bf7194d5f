import { createOpenAI } from '@ai-sdk/openai';
import { generateText } from 'ai';
import OpenAI, { AuthenticationError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakePlan } from '../../helpers/fakes/fakeUpstream.js';
import { events, waitForLog } from '../../helpers/log.js';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';

// /v1/responses under the session rules (docs/api.md "Sessions"): an abort closes the
// upstream, a second request on the same X-Session-Id supersedes the first, the Stop
// endpoint stops it; each ends in Responses' own vocabulary (docs/responses.md "Cancelled").

const MODEL = 'fake-llama:latest';
const slow = (): FakePlan => ({ tokens: Array.from({ length: 400 }, (_, i) => `t${i} `), tokenMs: 10 });

describe('/v1/responses under the session rules (fake Ollama)', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis();
    j.fake!.plan = (prompt) => (prompt === 'A' ? slow() : { tokens: ['B1 ', 'B2'], tokenMs: 5 });
  });
  afterAll(async () => {
    await j?.close();
  });
  const client = (session?: string) =>
    new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'sk-test', maxRetries: 0, ...(session ? { defaultHeaders: { 'X-Session-Id': session } } : {}) });

  it('an abort (AbortController) closes the upstream; the log has one stream_start and one stream_end', async () => {
    const before = j.fake!.requests.length;
    const controller = new AbortController();
    const stream = client('r-abort').responses.stream({ model: MODEL, input: 'A' }, { signal: controller.signal });
    let deltas = 0;
    await (async () => {
      for await (const event of stream) if (event.type === 'response.output_text.delta' && ++deltas === 3) controller.abort();
    })().catch(() => {});
    expect(deltas).toBe(3);
    const up = await j.fake!.waitForRequest((r) => r.id >= before);
    await up.closed;
    expect(up.aborted).toBe(true);
    const end = await waitForLog(j.logFile, 'stream_end', { session: 'r-abort' });
    expect(end.fields.reason).toBe('client_closed');
    expect(events(j.logFile, 'stream_start', { session: 'r-abort' })).toHaveLength(1);
    expect(events(j.logFile, 'stream_end', { session: 'r-abort' })).toHaveLength(1);
  });

  it('a second request on the same X-Session-Id ends the first: response.incomplete, status cancelled, cancel_reason superseded', async () => {
    const before = j.fake!.requests.length;
    const first = client('r-two').responses.stream({ model: MODEL, input: 'A' });
    const seen: OpenAI.Responses.ResponseStreamEvent[] = [];
    const firstDone = (async () => {
      for await (const event of first) seen.push(event);
    })();
    await expect.poll(() => seen.filter((e) => e.type === 'response.output_text.delta').length, { timeout: 10_000 }).toBeGreaterThan(2);
    const second = await client('r-two').responses.create({ model: MODEL, input: 'B' });
    await firstDone;
    const last = seen.at(-1)!;
    expect(last.type).toBe('response.incomplete');
    const final = await first.finalResponse();
    expect(final).toMatchObject({ status: 'cancelled', cancel_reason: 'superseded', incomplete_details: null });
    expect(final.output_text).toMatch(/^t0 t1 t2 /);
    expect(second).toMatchObject({ status: 'completed', output_text: 'B1 B2' });
    const upA = await j.fake!.waitForRequest((r) => r.prompt === 'A' && r.id >= before);
    await upA.closed;
    expect(upA.aborted).toBe(true);
  });

  it('a stream:false response stopped by the Stop endpoint answers 200 with what it had, status cancelled, cancel_reason stopped', async () => {
    const before = j.fake!.requests.length;
    const pending = client('r-stop').responses.create({ model: MODEL, input: 'A' });
    const up = await j.fake!.waitForRequest((r) => r.id >= before);
    await expect.poll(() => up.tokensSent, { timeout: 10_000 }).toBeGreaterThan(2);
    const stop = await fetch(`${j.url}/v1/sessions/r-stop/stop`, { method: 'POST' });
    expect(await stop.json()).toMatchObject({ stopped: true });
    const response = await pending;
    expect(response).toMatchObject({ status: 'cancelled', cancel_reason: 'stopped' });
    expect(response.output[0]).toMatchObject({ type: 'message', status: 'incomplete' });
    await up.closed;
    expect(up.aborted).toBe(true);
  });
});

describe('/v1/responses on the demo backend, with keys', () => {
  const KEY = 'alice-key-0123456789abcdef';
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'demo', JARVIS_API_KEYS: `alice:${KEY}` });
  });
  afterAll(async () => {
    await j?.close();
  });

  it('create and stream answer the demo reply, with the X-Session-Id and X-Stream-Id headers', async () => {
    const client = new OpenAI({ baseURL: `${j.url}/v1`, apiKey: KEY, maxRetries: 0 });
    const { data: response, response: raw } = await client.responses.create({ input: 'hello', max_output_tokens: 400 }).withResponse();
    expect(response.status).toBe('completed');
    expect(response.output_text.length).toBeGreaterThan(0);
    expect(response.id).toBe(`resp_${raw.headers.get('x-stream-id')}`);
    expect(raw.headers.get('x-session-id')).toMatch(/^sess-/);
    expect(raw.headers.get('server-timing')).toMatch(/\btotal;dur=/);
    const stream = client.responses.stream({ input: 'hello', model: response.model });
    let text = '';
    for await (const event of stream) if (event.type === 'response.output_text.delta') text += event.delta;
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(text);
    expect(text.length).toBeGreaterThan(0);
  });

  it('the AI SDK default provider answers from the demo too', async () => {
    const openai = createOpenAI({ baseURL: `${j.url}/v1`, apiKey: KEY });
    const result = await generateText({ model: openai('jarvis-demo'), prompt: 'hello', maxRetries: 0 });
    expect(result.text.length).toBeGreaterThan(0);
    expect(result.finishReason).toBe('stop');
  });

  it('a wrong key is the SDK\'s AuthenticationError; a stream carries Server-Timing', async () => {
    const wrong = await new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'nope', maxRetries: 0 }).responses.create({ input: 'hello' }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(AuthenticationError);
    const res = await fetch(`${j.url}/v1/responses`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ input: 'hello', stream: true }) });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('server-timing')).toBeTruthy();
    const body = await res.text();
    expect(body.startsWith('event: response.created\ndata: {"type":"response.created","sequence_number":0,')).toBe(true);
    expect(body).toMatch(/event: response.completed\n[^\n]+\n\n$/);
  });
});
