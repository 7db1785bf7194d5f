import OpenAI, { APIError, BadRequestError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';

// Jarvis serving the OpenAI API, driven by the official `openai` package as a
// real client, with the same session rules as the NDJSON path (docs/api.md).

let j: TestJarvis;
afterEach(async () => {
  await j?.close();
});

function client(t: TestJarvis, session?: string): OpenAI {
  return new OpenAI({
    baseURL: `${t.url}/v1`,
    apiKey: 'sk-ignored-until-auth-exists',
    maxRetries: 0,
    defaultHeaders: session ? { 'X-Session-Id': session } : {},
  });
}

const slow = (prompt: string) => ({ tokens: Array.from({ length: 400 }, (_, i) => `${prompt}#${i} `), tokenMs: 10 });

describe('OpenAI-compatible API (official openai client)', () => {
  it('streams chat.completion.chunk objects, with usage when asked', async () => {
    j = await startTestJarvis();
    const stream = await client(j, 'oa-stream').chat.completions.create({
      model: 'fake-llama:latest',
      messages: [{ role: 'user', content: 'A' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]).toMatchObject({ object: 'chat.completion.chunk', model: 'fake-llama:latest', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    expect(chunks[0]!.id).toMatch(/^chatcmpl-[0-9a-f]{16}$/);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(Array.from({ length: 20 }, (_, i) => `A#${i} `).join(''));
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 20, total_tokens: 27 } });
    const end = await waitForLog(j.logFile, 'stream_end', { session: 'oa-stream' });
    expect(end.fields.reason).toBe('done');
  });

  it('answers stream:false with one chat.completion and usage', async () => {
    j = await startTestJarvis();
    const completion = await client(j).chat.completions.create({ model: 'fake-llama:latest', messages: [{ role: 'user', content: 'B' }], stream: false, user: 'alice@example.com' });
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: 'fake-llama:latest',
      choices: [{ index: 0, message: { role: 'assistant', content: Array.from({ length: 20 }, (_, i) => `B#${i} `).join('') }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 7, completion_tokens: 20, total_tokens: 27 },
    });
    // No X-Session-Id: a session of its own; `user` is only logged.
    const start = await waitForLog(j.logFile, 'stream_start');
    expect(start.fields.session).toMatch(/^sess-[0-9a-f-]{36}$/);
    expect(start.fields.user).toBe('alice@example.com');
  });

  it('parallel calls from one `user` without X-Session-Id are separate sessions: neither cancels the other', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (p) => ({ tokens: Array.from({ length: 30 }, (_, i) => `${p}#${i} `), tokenMs: 10 });
    const ask = (prompt: string) => client(j).chat.completions.create({ model: 'fake-llama:latest', messages: [{ role: 'user', content: prompt }], stream: false, user: 'same-user' });
    const [a, b, c] = await Promise.all([ask('A'), ask('B'), ask('C')]);
    for (const [completion, p] of [[a, 'A'], [b, 'B'], [c, 'C']] as const) {
      expect(completion.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: Array.from({ length: 30 }, (_, i) => `${p}#${i} `).join('') } });
    }
    const ups = [await j.fake!.waitForRequest((r) => r.prompt === 'A'), await j.fake!.waitForRequest((r) => r.prompt === 'B')];
    expect(ups.map((u) => u.aborted)).toEqual([false, false]);
  });

  it('aborting a stream with its AbortController closes the upstream and logs stream_end', async () => {
    j = await startTestJarvis();
    j.fake!.plan = slow;
    const controller = new AbortController();
    const stream = await client(j, 'oa-abort').chat.completions.create(
      { model: 'fake-llama:latest', messages: [{ role: 'user', content: 'A' }], stream: true },
      { signal: controller.signal },
    );
    let seen = 0;
    // The SDK ends the iteration quietly when its signal aborts.
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content && ++seen === 3) controller.abort();
    }
    expect(seen).toBe(3);
    const upstream = await j.fake!.waitForRequest();
    await upstream.closed;
    expect(upstream.aborted).toBe(true);
    const end = await waitForLog(j.logFile, 'stream_end', { session: 'oa-abort' });
    expect(end.fields.reason).toBe('client_closed');
  });

  it('two clients on one session: the older stream ends with finish_reason "stop" and cancel_reason "superseded"', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (p) => (p === 'A' ? slow(p) : { tokens: ['B1 ', 'B2'], tokenMs: 5 });
    const first = await client(j, 'oa-two').chat.completions.create({ model: 'fake-llama:latest', messages: [{ role: 'user', content: 'A' }], stream: true });
    const firstChunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    const firstDone = (async () => {
      for await (const chunk of first) firstChunks.push(chunk);
    })();
    await expect.poll(() => firstChunks.length, { timeout: 10_000 }).toBeGreaterThan(2);
    // The second client names the same session with the header (a `user` field would not).
    const second = await client(j, 'oa-two').chat.completions.create({ model: 'fake-llama:latest', messages: [{ role: 'user', content: 'B' }], stream: false, user: 'someone' });
    await firstDone;
    // An OpenAI value the package knows, and Jarvis's reason beside it.
    expect(firstChunks.at(-1)?.choices[0]).toMatchObject({ finish_reason: 'stop', cancel_reason: 'superseded' });
    expect(firstChunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).not.toContain('B1');
    expect(second.choices[0]).toMatchObject({ message: { content: 'B1 B2' }, finish_reason: 'stop' });
    const upA = await j.fake!.waitForRequest((r) => r.prompt === 'A');
    await upA.closed;
    expect(upA.aborted).toBe(true);
  });

  it('a stream:false request that is stopped answers 200 with what it had, finish_reason "stop" and cancel_reason "stopped"', async () => {
    j = await startTestJarvis();
    j.fake!.plan = slow;
    const pending = client(j, 'oa-stop').chat.completions.create({ model: 'fake-llama:latest', messages: [{ role: 'user', content: 'A' }], stream: false });
    const upstream = await j.fake!.waitForRequest();
    await expect.poll(() => upstream.tokensSent, { timeout: 10_000 }).toBeGreaterThan(2);
    const stop = await fetch(`${j.url}/v1/sessions/oa-stop/stop`, { method: 'POST' });
    expect(await stop.json()).toMatchObject({ stopped: true });
    const completion = await pending;
    expect(completion.choices[0]).toMatchObject({ finish_reason: 'stop', cancel_reason: 'stopped' });
    expect(completion.choices[0]?.message.content).toMatch(/^A#0 A#1 /);
  });

  it('bad requests get OpenAI-style errors the client understands', async () => {
    j = await startTestJarvis();
    const c = client(j);
    const err = await c.chat.completions.create({ model: 'fake-llama:latest', messages: [], stream: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).status).toBe(400);
    expect((err as BadRequestError).code).toBe('invalid_request');
    expect((err as BadRequestError).type).toBe('invalid_request_error');
    expect((err as BadRequestError).message).toMatch(/messages/);

    // A tool message must say which call it answers.
    const noCallId = await c.chat.completions.create({ model: 'fake-llama:latest', messages: [{ role: 'tool', content: 'x' } as never] }).catch((e: unknown) => e);
    expect(noCallId).toBeInstanceOf(BadRequestError);
    expect((noCallId as BadRequestError).message).toMatch(/tool_call_id/);
    expect((noCallId as BadRequestError).param).toBe('messages[0].tool_call_id');
  });

  it('upstream failures surface as OpenAI errors: HTTP status for stream:false, an error event for stream:true', async () => {
    j = await startTestJarvis();
    const c = client(j);
    const notFound = await c.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }], stream: false }).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(APIError);
    expect((notFound as APIError).status).toBe(404);
    expect((notFound as APIError).code).toBe('model_not_found');

    j.fake!.plan = () => ({ tokens: ['a ', 'b '], tokenMs: 2, fault: 'fail_mid', faultAfter: 1 });
    const stream = await c.chat.completions.create({ model: 'fake-llama:latest', messages: [{ role: 'user', content: 'x' }], stream: true });
    const streamed = await (async () => {
      for await (const _ of stream) {
        // read until the error arrives
      }
    })().catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(APIError);
    expect((streamed as APIError).message).toMatch(/Ollama/);
  });

  it('lists models in OpenAI format and accepts an Authorization header', async () => {
    j = await startTestJarvis();
    const list = await client(j).models.list();
    expect(list.data.map((m) => m.id)).toEqual(['fake-llama:latest', 'fake-qwen:latest']);
    expect(list.data[0]).toMatchObject({ object: 'model', owned_by: 'ollama' });
  });
});
