import { Ollama, type ChatResponse, type GenerateResponse } from 'ollama';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeEmbedding } from '../helpers/fakes/fakeOllama.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, waitForLog } from '../helpers/log.js';

// Jarvis serving Ollama's API (/api/*), driven by the official `ollama` package
// as a real client, in front of a fake Ollama, a fake OpenAI-compatible server
// and the demo backend, under the same session rules as every stream (docs/api.md).

let j: TestJarvis;
afterEach(async () => {
  await j?.close();
});

function client(t: TestJarvis, session?: string): Ollama {
  return new Ollama({ host: t.url, headers: session ? { 'X-Session-Id': session } : {} });
}

const MODEL = 'fake-llama:latest';
const slow = (prompt: string) => ({ tokens: Array.from({ length: 400 }, (_, i) => `${prompt}#${i} `), tokenMs: 10 });
const reply = (prompt: string, n = 20) => Array.from({ length: n }, (_, i) => `${prompt}#${i} `).join('');

describe('Ollama API (official ollama client) in front of Ollama', () => {
  it('chat streams Ollama lines, the last with done, done_reason and the counts', async () => {
    j = await startTestJarvis();
    const parts: ChatResponse[] = [];
    for await (const part of await client(j, 'ol-stream').chat({ model: MODEL, messages: [{ role: 'user', content: 'A' }], stream: true })) parts.push(part);
    expect(parts.map((p) => p.message.content).join('')).toBe(reply('A'));
    expect(parts[0]).toMatchObject({ model: MODEL, message: { role: 'assistant', content: 'A#0 ' }, done: false });
    expect(new Date(parts[0]!.created_at).getTime()).toBeGreaterThan(Date.now() - 60_000);
    const last = parts.at(-1)!;
    expect(last).toMatchObject({ model: MODEL, done: true, done_reason: 'stop', message: { role: 'assistant', content: '' }, prompt_eval_count: 7, eval_count: 20, load_duration: 0 });
    for (const field of ['total_duration', 'prompt_eval_duration', 'eval_duration'] as const) expect(Number.isInteger(last[field]) && last[field] >= 0).toBe(true);
    expect(last.total_duration).toBeGreaterThanOrEqual(last.eval_duration);
    const upstream = await j.fake!.waitForRequest();
    expect(upstream.body).toMatchObject({ model: MODEL, messages: [{ role: 'user', content: 'A' }], stream: true });
    const end = await waitForLog(j.logFile, 'stream_end', { session: 'ol-stream' });
    expect(end.fields.reason).toBe('done');
  });

  it('chat without stream (the package default) answers one object', async () => {
    j = await startTestJarvis();
    const res = await client(j).chat({ model: MODEL, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'B' }], options: { temperature: 0.2, num_predict: 50 } });
    expect(res).toMatchObject({ model: MODEL, message: { role: 'assistant', content: reply('B') }, done: true, done_reason: 'stop', prompt_eval_count: 7, eval_count: 20 });
    const upstream = await j.fake!.waitForRequest();
    expect(upstream.body).toMatchObject({ messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'B' }], options: { temperature: 0.2, num_predict: 50 } });
  });

  it('a request without X-Session-Id is a session of its own: two at once both finish', async () => {
    j = await startTestJarvis();
    const c = client(j);
    const [a, b] = await Promise.all([
      c.chat({ model: MODEL, messages: [{ role: 'user', content: 'A' }] }),
      c.chat({ model: MODEL, messages: [{ role: 'user', content: 'B' }] }),
    ]);
    expect([a.done_reason, b.done_reason]).toEqual(['stop', 'stop']);
    const sessions = events(j.logFile, 'stream_start').map((l) => l.fields.session as string);
    expect(sessions).toHaveLength(2);
    expect(new Set(sessions).size).toBe(2);
    for (const s of sessions) expect(s).toMatch(/^sess-/);
  });

  it('generate streams `response` parts; its context carries the conversation into the next generate', async () => {
    j = await startTestJarvis();
    const c = client(j, 'ol-gen');
    const parts: GenerateResponse[] = [];
    for await (const part of await c.generate({ model: MODEL, prompt: 'G', system: 'you are terse', stream: true })) parts.push(part);
    expect(parts.map((p) => p.response).join('')).toBe(reply('G'));
    const last = parts.at(-1)!;
    expect(last).toMatchObject({ done: true, done_reason: 'stop', response: '', eval_count: 20 });
    expect(Array.isArray(last.context) && last.context.every((n) => Number.isInteger(n))).toBe(true);
    const first = await j.fake!.waitForRequest();
    expect(first.body).toMatchObject({ messages: [{ role: 'system', content: 'you are terse' }, { role: 'user', content: 'G' }] });

    const next = await c.generate({ model: MODEL, prompt: 'H', context: last.context });
    expect(next).toMatchObject({ response: reply('H'), done: true, done_reason: 'stop' });
    const second = await j.fake!.waitForRequest((r) => r.prompt === 'H');
    expect((second.body as { messages: unknown }).messages).toEqual([
      { role: 'system', content: 'you are terse' },
      { role: 'user', content: 'G' },
      { role: 'assistant', content: reply('G') },
      { role: 'user', content: 'H' },
    ]);
  });

  it('generate refuses a template it cannot apply, and a context it did not make, with Ollama errors (raw and suffix: test/protocols/completions/)', async () => {
    j = await startTestJarvis();
    const c = client(j);
    await expect(c.generate({ model: MODEL, prompt: 'x', context: [1, 2, 3] })).rejects.toMatchObject({ name: 'ResponseError', status_code: 400, error: expect.stringMatching(/context/) });
    await expect(c.generate({ model: MODEL, prompt: 'x', template: '{{ .Prompt }}' })).rejects.toMatchObject({ status_code: 400, error: expect.stringMatching(/"template".*raw: true/) });
    expect(j.fake!.requests).toHaveLength(0);
  });

  it('list, ps, show and version read the upstream Ollama in Ollama shapes', async () => {
    j = await startTestJarvis();
    const c = client(j);
    const list = await c.list();
    expect(list.models.map((m) => m.name)).toEqual([MODEL, 'fake-qwen:latest']);
    expect(list.models[0]).toMatchObject({ model: MODEL, size: 2_019_393_189, digest: 'sha256-fake-0', details: { family: 'llama', parameter_size: '3.2B', quantization_level: 'Q4_K_M' } });
    expect(new Date(list.models[0]!.modified_at).getUTCFullYear()).toBe(2025);

    const ps = await c.ps();
    expect(ps.models).toHaveLength(1);
    expect(ps.models[0]).toMatchObject({ name: MODEL, size_vram: 2_500_000_000, expires_at: '2030-01-01T00:00:00Z' });

    const show = await c.show({ model: MODEL });
    expect(show).toMatchObject({ license: 'FAKE LICENSE', template: '{{ .Prompt }}', capabilities: ['completion', 'tools'], details: { family: 'llama' } });
    expect(show.model_info).toMatchObject({ 'llama.context_length': 131072 });
    await expect(c.show({ model: 'nope' })).rejects.toMatchObject({ status_code: 404, error: expect.stringMatching(/'nope' not found/) });

    expect(await c.version()).toEqual({ version: '0.11.4' });
  });

  it('embed passes to Ollama /api/embed; the legacy embeddings too', async () => {
    j = await startTestJarvis();
    const c = client(j);
    const res = await c.embed({ model: MODEL, input: ['hello world', 'a'], truncate: false, dimensions: 4 });
    expect(res.model).toBe(MODEL);
    expect(res.embeddings).toEqual([fakeEmbedding('hello world'), fakeEmbedding('a')]);
    expect(res.prompt_eval_count).toBe(3);
    expect(j.fake!.embedRequests[0]).toMatchObject({ model: MODEL, input: ['hello world', 'a'], truncate: false, dimensions: 4 });
    expect((await c.embed({ model: MODEL, input: 'one' })).embeddings).toEqual([fakeEmbedding('one')]);
    expect((await c.embeddings({ model: MODEL, prompt: 'hello' })).embedding).toEqual(fakeEmbedding('hello'));
    await expect(c.embed({ model: 'nope', input: 'x' })).rejects.toMatchObject({ status_code: 404 });
  });

  it('aborting a streamed chat closes the upstream request', async () => {
    j = await startTestJarvis();
    j.fake!.plan = slow;
    const stream = await client(j, 'ol-abort').chat({ model: MODEL, messages: [{ role: 'user', content: 'A' }], stream: true });
    let seen = 0;
    const reading = (async () => {
      for await (const part of stream) if (part.message.content && ++seen === 3) stream.abort();
    })();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    // Parts already split from the last chunk read are still yielded after abort().
    expect(seen).toBeGreaterThanOrEqual(3);
    const upstream = await j.fake!.waitForRequest();
    await upstream.closed;
    expect(upstream.aborted).toBe(true);
    expect(upstream.completed).toBe(false);
    const end = await waitForLog(j.logFile, 'stream_end', { session: 'ol-abort' });
    expect(end.fields.reason).toBe('client_closed');
  });

  it('a second chat on the same session supersedes the first: it ends with done_reason "stop", cancel_reason "superseded"', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (p) => (p === 'A' ? slow(p) : { tokens: ['B1 ', 'B2'], tokenMs: 5 });
    const first = await client(j, 'ol-two').chat({ model: MODEL, messages: [{ role: 'user', content: 'A' }], stream: true });
    const firstParts: ChatResponse[] = [];
    const firstDone = (async () => {
      for await (const part of first) firstParts.push(part);
    })();
    await expect.poll(() => firstParts.length, { timeout: 10_000 }).toBeGreaterThan(2);
    const second = await client(j, 'ol-two').chat({ model: MODEL, messages: [{ role: 'user', content: 'B' }] });
    await firstDone;
    const last = firstParts.at(-1)!;
    expect(last).toMatchObject({ done: true, done_reason: 'stop', cancel_reason: 'superseded', message: { content: '' } });
    expect(last.eval_count).toBe(firstParts.length - 1);
    expect(firstParts.map((p) => p.message.content).join('')).not.toContain('B1');
    expect(second).toMatchObject({ message: { content: 'B1 B2' }, done_reason: 'stop' });
    const upA = await j.fake!.waitForRequest((r) => r.prompt === 'A');
    await upA.closed;
    expect(upA.aborted).toBe(true);
  });

  it('Stop on the session ends a streamed chat with cancel_reason "stopped", a stream:false one with what it had', async () => {
    j = await startTestJarvis();
    j.fake!.plan = slow;
    const stream = await client(j, 'ol-stop').chat({ model: MODEL, messages: [{ role: 'user', content: 'A' }], stream: true });
    const parts: ChatResponse[] = [];
    const reading = (async () => {
      for await (const part of stream) parts.push(part);
    })();
    await expect.poll(() => parts.length, { timeout: 10_000 }).toBeGreaterThan(2);
    const stop = await fetch(`${j.url}/v1/sessions/ol-stop/stop`, { method: 'POST' });
    expect(await stop.json()).toMatchObject({ stopped: true });
    await reading;
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: 'stop', cancel_reason: 'stopped' });

    const pending = client(j, 'ol-stop2').generate({ model: MODEL, prompt: 'P' });
    const upstream = await j.fake!.waitForRequest((r) => r.prompt === 'P');
    await expect.poll(() => upstream.tokensSent, { timeout: 10_000 }).toBeGreaterThan(2);
    await fetch(`${j.url}/v1/sessions/ol-stop2/stop`, { method: 'POST' });
    const res = await pending;
    expect(res).toMatchObject({ done_reason: 'stop', cancel_reason: 'stopped' });
    // What Jarvis had read when the stop came: a prefix of the reply, and short of all of it.
    const had = res.response ?? '';
    expect(reply('P', 400).startsWith(had)).toBe(true);
    expect(had.length).toBeLessThan(reply('P', 400).length);
  });

  it('errors are Ollama errors: an HTTP status before the first part, an error line after it', async () => {
    j = await startTestJarvis();
    const c = client(j);
    await expect(c.chat({ model: 'nope', messages: [{ role: 'user', content: 'x' }], stream: true })).rejects.toMatchObject({
      name: 'ResponseError',
      status_code: 404,
      error: expect.stringMatching(/not found/),
    });
    const bad = await fetch(`${j.url}/api/chat`, { method: 'POST', body: JSON.stringify({ model: MODEL, messages: [{ role: 'robot', content: 'x' }] }) });
    expect(bad.status).toBe(400);
    expect(typeof ((await bad.json()) as { error: unknown }).error).toBe('string');
    const notJson = await fetch(`${j.url}/api/chat`, { method: 'POST', body: '{"model":' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: expect.stringMatching(/not valid JSON/) });

    j.fake!.plan = () => ({ tokens: ['a ', 'b ', 'c '], tokenMs: 2, fault: 'error_line', faultAfter: 2 });
    const parts: ChatResponse[] = [];
    const failed = (async () => {
      for await (const part of await c.chat({ model: MODEL, messages: [{ role: 'user', content: 'x' }], stream: true })) parts.push(part);
    })();
    await expect(failed).rejects.toThrow(/an error was encountered while running the model/);
    expect(parts.map((p) => p.message.content).join('')).toBe('a b ');
    // stream:false: the error is the answer's status and body.
    await expect(c.chat({ model: MODEL, messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status_code: 502 });
  });

  it('an empty chat or generate loads the model, as Ollama answers it', async () => {
    j = await startTestJarvis();
    const c = client(j);
    expect(await c.chat({ model: MODEL, messages: [] })).toMatchObject({ model: MODEL, done: true, done_reason: 'load', message: { role: 'assistant', content: '' } });
    expect(await c.generate({ model: MODEL, prompt: '', keep_alive: 0 })).toMatchObject({ done: true, done_reason: 'unload', response: '' });
    await expect(c.chat({ model: 'nope', messages: [] })).rejects.toMatchObject({ status_code: 404 });
    expect(j.fake!.requests).toHaveLength(0);
  });
});

describe('Ollama API: thinking, tools, images and parameters', () => {
  const weather = { type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };
  // A 1x1 PNG, as ollama-js sends images: bare base64.
  const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

  it('streams message.thinking, then message.tool_calls with object arguments; stream:false collects both', async () => {
    j = await startTestJarvis();
    j.fake!.plan = () => ({ thinking: ['Let me ', 'look.'], tokens: [], tokenMs: 2, toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] });
    const c = client(j, 'ol-tools');
    const parts: ChatResponse[] = [];
    for await (const part of await c.chat({ model: MODEL, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weather], think: true, stream: true })) parts.push(part);
    expect(parts.map((p) => p.message.thinking ?? '').join('')).toBe('Let me look.');
    const calls = parts.flatMap((p) => p.message.tool_calls ?? []);
    expect(calls).toEqual([{ id: expect.any(String), function: { index: 0, name: 'get_weather', arguments: { city: 'Paris' } } }]);
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: 'stop' });
    const upstream = await j.fake!.waitForRequest();
    expect(upstream.body).toMatchObject({ think: true, tools: [weather] });

    const whole = await c.chat({ model: MODEL, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weather], think: 'high' });
    expect(whole.message).toMatchObject({ role: 'assistant', content: '', thinking: 'Let me look.', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] });
    expect(whole.done_reason).toBe('stop');
    expect(j.fake!.requests[1]!.body).toMatchObject({ think: 'high' });
  });

  it('a tool round trip reaches an OpenAI-compatible upstream with call ids made up and paired', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
    j.fake!.plan = (prompt) => (prompt === 'Weather in Paris?' ? { tokens: [], tokenMs: 2, toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] } : { tokens: ['Sunny.'], tokenMs: 2 });
    const c = client(j, 'ol-round');
    const first = await c.chat({ model: MODEL, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weather] });
    expect(first.message.tool_calls).toEqual([{ id: 'call_fake_0', function: { index: 0, name: 'get_weather', arguments: { city: 'Paris' } } }]);
    expect(first.done_reason).toBe('stop');
    // As older Ollama clients send it back: no ids, the result named by tool_name.
    const second = await c.chat({
      model: MODEL,
      tools: [weather],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
        { role: 'tool', content: '22°C and sunny', tool_name: 'get_weather' },
        { role: 'user', content: 'And so?' },
      ],
    });
    expect(second.message.content).toBe('Sunny.');
    const upstream = await j.fake!.waitForRequest((r) => r.prompt === 'And so?');
    expect((upstream.body as { messages: unknown[] }).messages.slice(1, 3)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', content: '22°C and sunny', tool_call_id: 'call_1_0', name: 'get_weather' },
    ]);
  });

  it('images reach Ollama as base64 and an OpenAI-compatible upstream as data URLs', async () => {
    j = await startTestJarvis();
    await client(j).chat({ model: MODEL, messages: [{ role: 'user', content: 'What is this?', images: [PNG] }] });
    expect((await j.fake!.waitForRequest()).body).toMatchObject({ messages: [{ role: 'user', content: 'What is this?', images: [PNG] }] });
    await client(j).generate({ model: MODEL, prompt: 'And this?', images: [PNG] });
    expect((await j.fake!.waitForRequest((r) => r.prompt === 'And this?')).body).toMatchObject({ messages: [{ role: 'user', content: 'And this?', images: [PNG] }] });
    await j.close();

    j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
    await client(j).chat({ model: MODEL, messages: [{ role: 'user', content: 'What is this?', images: [PNG] }] });
    expect((await j.fake!.waitForRequest()).body).toMatchObject({
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] }],
    });
  });

  it('format, options and keep_alive reach Ollama as given, and an OpenAI-compatible upstream as its parameters', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    const request = {
      model: MODEL,
      messages: [{ role: 'user', content: 'A' }],
      format: schema,
      keep_alive: '10m',
      options: { temperature: 0.1, top_p: 0.9, top_k: 20, seed: 42, stop: ['\n\n'], num_ctx: 8192, num_predict: 100 },
    };
    j = await startTestJarvis();
    await client(j).chat(request);
    expect((await j.fake!.waitForRequest()).body).toMatchObject({ format: schema, keep_alive: '10m', options: request.options });
    await client(j).generate({ model: MODEL, prompt: 'J', format: 'json' });
    expect((await j.fake!.waitForRequest((r) => r.prompt === 'J')).body).toMatchObject({ format: 'json' });
    await j.close();

    j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
    await client(j).chat(request);
    expect((await j.fake!.waitForRequest()).body).toMatchObject({
      response_format: { type: 'json_schema', json_schema: { name: 'response', schema } },
      temperature: 0.1,
      top_p: 0.9,
      seed: 42,
      stop: ['\n\n'],
      max_tokens: 100,
    });
  });

  it('generate streams `thinking` beside `response`', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
    j.fake!.plan = () => ({ thinking: ['Hmm.'], tokens: ['Yes.'], tokenMs: 2 });
    const parts: GenerateResponse[] = [];
    for await (const part of await client(j).generate({ model: MODEL, prompt: 'Q', think: true, stream: true })) parts.push(part);
    expect(parts.map((p) => p.thinking ?? '').join('')).toBe('Hmm.');
    expect(parts.map((p) => p.response).join('')).toBe('Yes.');
    expect((await j.fake!.waitForRequest()).body).toMatchObject({ reasoning_effort: 'medium' });
  });

  it('a stream that is thinking is superseded like any other', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (p) => (p === 'A' ? { thinking: Array.from({ length: 400 }, (_, i) => `t${i} `), tokens: ['never'], tokenMs: 10 } : { tokens: ['B'], tokenMs: 2 });
    const first = await client(j, 'ol-think').chat({ model: MODEL, messages: [{ role: 'user', content: 'A' }], think: true, stream: true });
    const parts: ChatResponse[] = [];
    const reading = (async () => {
      for await (const part of first) parts.push(part);
    })();
    await expect.poll(() => parts.length, { timeout: 10_000 }).toBeGreaterThan(2);
    const second = await client(j, 'ol-think').chat({ model: MODEL, messages: [{ role: 'user', content: 'B' }] });
    await reading;
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: 'stop', cancel_reason: 'superseded' });
    expect(second.message.content).toBe('B');
    const upA = await j.fake!.waitForRequest((r) => r.prompt === 'A');
    await upA.closed;
    expect(upA.aborted).toBe(true);
  });
});

describe('Ollama API in front of an OpenAI-compatible server', () => {
  it('chat and generate become chat completions; tags, show and ps read /v1/models; embed uses /v1/embeddings', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
    const c = client(j, 'ol-oa');
    const chat = await c.chat({ model: MODEL, messages: [{ role: 'user', content: 'A' }], options: { num_predict: 64 } });
    expect(chat).toMatchObject({ message: { content: reply('A') }, done_reason: 'stop', prompt_eval_count: 7, eval_count: 20 });
    const up = await j.fake!.waitForRequest();
    expect(up.body).toMatchObject({ model: MODEL, messages: [{ role: 'user', content: 'A' }], max_tokens: 64, stream: true });

    const parts: GenerateResponse[] = [];
    for await (const part of await c.generate({ model: MODEL, prompt: 'G', system: 'sys', stream: true })) parts.push(part);
    expect(parts.map((p) => p.response).join('')).toBe(reply('G'));
    const upG = await j.fake!.waitForRequest((r) => r.prompt === 'G');
    expect((upG.body as { messages: unknown }).messages).toEqual([{ role: 'system', content: 'sys' }, { role: 'user', content: 'G' }]);

    expect((await c.list()).models.map((m) => m.name)).toEqual([MODEL, 'fake-qwen:latest']);
    expect((await c.ps()).models.map((m) => m.name)).toEqual([MODEL, 'fake-qwen:latest']);
    expect(await c.show({ model: MODEL })).toMatchObject({ capabilities: ['completion'], details: { family: '' } });
    await expect(c.show({ model: 'nope' })).rejects.toMatchObject({ status_code: 404 });
    // The OpenAI API has no version: Jarvis reports the Ollama API level it serves.
    expect((await c.version()).version).toMatch(/^\d+\.\d+\.\d+$/);

    const emb = await c.embed({ model: MODEL, input: ['hello world', 'a'] });
    expect(emb.embeddings).toEqual([fakeEmbedding('hello world'), fakeEmbedding('a')]);
    expect(emb.prompt_eval_count).toBe(3);
    expect(j.fake!.embedRequests[0]).toMatchObject({ model: MODEL, input: ['hello world', 'a'], encoding_format: 'float' });
  });
});

describe('Ollama API in front of the demo backend', () => {
  it('chats and lists the demo model; embeddings are refused with 501 and a reason', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'demo' });
    const c = client(j);
    const chat = await c.chat({ model: 'jarvis-demo', messages: [{ role: 'user', content: 'hi' }] });
    expect(chat.message.content).toMatch(/demo backend/);
    expect(chat.done_reason).toBe('stop');
    expect((await c.list()).models.map((m) => m.name)).toEqual(['jarvis-demo:latest']);
    await expect(c.embed({ model: 'jarvis-demo', input: 'x' })).rejects.toMatchObject({ status_code: 501, error: expect.stringMatching(/no embedding model/) });
  });
});
