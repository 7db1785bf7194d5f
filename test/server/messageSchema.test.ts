import { afterEach, describe, expect, it } from 'vitest';
import { postJson } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { postChat } from '../helpers/openaiWire.js';

// The full OpenAI message schema and parameters (docs/api.md): what each upstream is sent, and a clear 400 for what is wrong.

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});

const MODEL = 'fake-llama:latest';
// A 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const DATA_URL = `data:image/png;base64,${PNG.toString('base64')}`;

async function completion(url: string, body: Record<string, unknown>) {
  const res = await postJson(`${url}/v1/chat/completions`, { model: MODEL, stream: false, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { choices: Array<{ message: { content: string } }> };
}

describe('messages', () => {
  it('array content, the developer role, names, nulls and unknown fields: accepted and mapped for Ollama', async () => {
    j = await startTestJarvis();
    await completion(j!.url, {
      messages: [
        { role: 'developer', content: [{ type: 'text', text: 'Be ' }, { type: 'text', text: 'brief.' }] },
        { role: 'user', name: 'ada', content: [{ type: 'text', text: 'hi' }], some_future_field: { x: 1 } },
      ],
      temperature: null,
      max_tokens: null,
      top_p: null,
      seed: null,
      stop: null,
      tools: null,
      tool_choice: null,
      response_format: null,
      user: null,
      metadata: { trace: 'abc' },
      store: false,
    });
    const sent = j!.fake!.requests[0]!.body as { messages: unknown[]; options: Record<string, unknown> };
    expect(sent.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ]);
    expect(sent.options).toEqual({});
  });

  it('images: data and http URLs become Ollama `images` (base64, fetched once, in order)', async () => {
    // The image host is the fake upstream, on loopback: only the allow-list lets Jarvis fetch from it.
    j = await startTestJarvis({ JARVIS_IMAGE_FETCH_ALLOW: '127.0.0.1' });
    j!.fake!.files.set('/cat.png', { type: 'image/png', body: PNG });
    await completion(j!.url, {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is in these?' },
            { type: 'image_url', image_url: { url: DATA_URL, detail: 'low' } },
            { type: 'image_url', image_url: { url: `${j!.fake!.url}/cat.png` } },
          ],
        },
      ],
    });
    const sent = j!.fake!.requests[0]!.body as { messages: Array<{ content: string; images?: string[] }> };
    expect(sent.messages[0]).toEqual({ role: 'user', content: 'what is in these?', images: [PNG.toString('base64'), PNG.toString('base64')] });
  });

  it('an image that cannot be fetched is a 400 naming it, before any stream starts', async () => {
    j = await startTestJarvis({ JARVIS_IMAGE_FETCH_ALLOW: '127.0.0.1' });
    const body = { model: MODEL, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `${j!.fake!.url}/missing.png` } }] }] };
    for (const stream of [false, true]) {
      const res = await postChat(j!.url, { ...body, stream }, { 'content-type': 'application/json' });
      expect(res.status).toBe(400);
      const err = (await res.json()) as { error: { code: string; message: string } };
      expect(err.error.code).toBe('image_fetch_failed');
      expect(err.error.message).toMatch(/missing\.png could not be fetched/);
    }
    expect(j!.fake!.requests).toHaveLength(0);
  });

  it('images and tool messages pass to an OpenAI-compatible upstream as they are', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
    const image = { type: 'image_url', image_url: { url: 'https://example.invalid/cat.png', detail: 'high' } };
    await completion(j!.url, {
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'see' }, image] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'look', arguments: '{"at":"cat"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'a cat' },
        { role: 'user', content: 'so?' },
      ],
    });
    const sent = j!.fake!.requests[0]!.body as { messages: unknown[] };
    expect(sent.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'see' }, image] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'look', arguments: '{"at":"cat"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'a cat' },
      { role: 'user', content: 'so?' },
    ]);
  });
});

describe('parameters keep their meaning', () => {
  const params = {
    temperature: 0.2,
    top_p: 0.9,
    max_completion_tokens: 50,
    max_tokens: 999,
    stop: ['\n\n', 'END'],
    seed: 42,
    frequency_penalty: 0.5,
    presence_penalty: -0.5,
    response_format: { type: 'json_object' },
  };

  it('Ollama: into `options`, `format`, `keep_alive` (the named parameters win over `options`)', async () => {
    j = await startTestJarvis();
    await completion(j!.url, { messages: [{ role: 'user', content: 'x' }], ...params, keep_alive: '10m', options: { num_ctx: 8192, top_k: 20, seed: 1 } });
    const sent = j!.fake!.requests[0]!.body as Record<string, unknown>;
    expect(sent.options).toEqual({ num_ctx: 8192, top_k: 20, temperature: 0.2, top_p: 0.9, num_predict: 50, stop: ['\n\n', 'END'], seed: 42, frequency_penalty: 0.5, presence_penalty: -0.5 });
    expect(sent.format).toBe('json');
    expect(sent.keep_alive).toBe('10m');
    expect(sent.think).toBeUndefined();

    await completion(j!.url, { messages: [{ role: 'user', content: 'x' }], stop: 'STOP', response_format: { type: 'json_schema', json_schema: { name: 'p', schema: { type: 'object', properties: { a: { type: 'number' } } } } } });
    const second = j!.fake!.requests[1]!.body as Record<string, unknown>;
    expect(second.format).toEqual({ type: 'object', properties: { a: { type: 'number' } } });
    expect((second.options as Record<string, unknown>).stop).toEqual(['STOP']);
  });

  it('OpenAI-compatible: as OpenAI spells them', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
    await completion(j!.url, { messages: [{ role: 'user', content: 'x' }], ...params, parallel_tool_calls: false, tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }], tool_choice: 'required' });
    expect(j!.fake!.requests[0]!.body).toMatchObject({
      temperature: 0.2,
      top_p: 0.9,
      max_tokens: 50,
      stop: ['\n\n', 'END'],
      seed: 42,
      frequency_penalty: 0.5,
      presence_penalty: -0.5,
      response_format: { type: 'json_object' },
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      tool_choice: 'required',
      parallel_tool_calls: false,
      stream: true,
    });
  });
});

describe('a clear 400 for what is wrong or cannot be honoured', () => {
  const cases: Array<{ name: string; body: Record<string, unknown>; message: RegExp; param?: string }> = [
    { name: 'n > 1 from Ollama', body: { n: 3 }, message: /the ollama backend returns one reply per request \(Ollama has no "n"\); send 3 requests on 3 sessions/, param: 'n' },
    { name: 'n > 8', body: { n: 9 }, message: /n=9 is more than 8/, param: 'n' },
    { name: 'top_logprobs without logprobs', body: { top_logprobs: 2 }, message: /top_logprobs needs "logprobs": true/, param: 'top_logprobs' },
    { name: 'audio output', body: { modalities: ['text', 'audio'] }, message: /audio/, param: 'modalities' },
    { name: 'an unknown part type', body: { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] }, message: /"input_audio" is not supported/, param: 'messages[0].content[0]' },
    { name: 'a text part without text', body: { messages: [{ role: 'user', content: [{ type: 'text' }] }] }, message: /needs "text"/ },
    { name: 'an image that is no URL', body: { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }] }, message: /data:image/ },
    { name: 'user content null', body: { messages: [{ role: 'user', content: null }] }, message: /content is required/ },
    { name: 'a tool message without tool_call_id', body: { messages: [{ role: 'tool', content: 'x' }] }, message: /tool_call_id/ },
    { name: 'tool_calls on a user message', body: { messages: [{ role: 'user', content: 'x', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } }] }] }, message: /only assistant/ },
    { name: 'tool_choice naming a missing tool', body: { tool_choice: { type: 'function', function: { name: 'nope' } } }, message: /"nope"/, param: 'tool_choice' },
    { name: 'a json_schema without a schema', body: { response_format: { type: 'json_schema', json_schema: { name: 'x' } } }, message: /json_schema.schema/ },
    { name: 'an unknown role', body: { messages: [{ role: 'robot', content: 'x' }] }, message: /role/ },
    { name: 'a temperature out of range', body: { temperature: 3 }, message: /temperature/ },
  ];
  it.each(cases)('$name', async ({ body, message, param }) => {
    j = await startTestJarvis();
    const res = await postJson(`${j!.url}/v1/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: 'x' }], ...body });
    expect(res.status).toBe(400);
    const err = (res.body as { error: { code: string; message: string; param: string | null } }).error;
    expect(err.message).toMatch(message);
    if (param) expect(err.param).toBe(param);
    expect(j!.fake!.requests).toHaveLength(0);
  });
});
