import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthResponse, ModelList } from '../../src/shared/events.js';
import { EMBEDDED_TEST_ENV, TEST_MODEL, TEST_MODELS_DIR } from '../backends/kindFakes.js';
import { chat, postJson } from '../helpers/chatClient.js';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { FakeOpenAI } from '../helpers/fakes/fakeOpenAI.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, waitForLog } from '../helpers/log.js';

// Every kind at once behind one Jarvis (docs/upstreams.md): two Ollamas, an OpenAI-compatible
// server and the embedded engine on the tiny GGUF. Each model goes to a server that has it, a
// model two servers share is spread between them, and the listings are the union.

let o1: FakeOllama;
let o2: FakeOllama;
let oa: FakeOpenAI;
let j: TestJarvis;

beforeAll(async () => {
  o1 = await new FakeOllama().start();
  o2 = await new FakeOllama().start();
  oa = await new FakeOpenAI().start();
  o1.models = ['shared:latest', 'only-o1:latest', 'duo:latest'];
  // o2 has a model it is not to be used for: its allow-list leaves it out.
  o2.models = ['shared:latest', 'hidden:latest'];
  oa.models = ['vendor/big-model', 'duo'];
  for (const f of [o1, o2, oa]) f.plan = (prompt) => ({ tokens: [`${prompt} `, 'ok'], tokenMs: 1 });
  j = await startTestJarvis(
    {
      ...EMBEDDED_TEST_ENV,
      JARVIS_MAX_TOKENS_DEFAULT: '16',
      JARVIS_UPSTREAMS: `o1=ollama:${o1.url},o2=ollama:${o2.url};models=shared,oa=openai:${oa.url}/v1,local=embedded:${TEST_MODELS_DIR}`,
    },
    { fake: false },
  );
}, 30_000);
afterAll(async () => {
  await j?.close();
  for (const f of [o1, o2, oa]) await f?.stop();
});

describe('several kinds at once', () => {
  it('lists the union once per model with its servers: /v1/models, /v1/models/{id}, /api/tags, /health', async () => {
    const servers: Record<string, string[]> = { 'shared:latest': ['o1', 'o2'], 'only-o1:latest': ['o1'], 'duo:latest': ['o1', 'oa'], 'vendor/big-model': ['oa'], [TEST_MODEL]: ['local'] };
    const list = (await (await fetch(`${j.url}/v1/models`)).json()) as ModelList;
    expect(Object.fromEntries(list.data.map((m) => [m.id, m.upstreams]))).toEqual(servers);
    // A model id with a slash, as vLLM names them, and the GGUF's model.
    for (const id of ['vendor/big-model', TEST_MODEL, 'shared:latest']) {
      const one = await fetch(`${j.url}/v1/models/${id}`);
      expect(one.status, id).toBe(200);
      expect(await one.json()).toMatchObject({ id, upstreams: servers[id] });
    }
    expect((await fetch(`${j.url}/v1/models/nobody-has-it`)).status).toBe(404);
    const tags = (await (await fetch(`${j.url}/api/tags`)).json()) as { models: Array<{ name: string; upstreams?: string[] }> };
    const bare = (name: string) => name.replace(/:latest$/, '');
    expect(Object.fromEntries(tags.models.map((m) => [bare(m.name), m.upstreams]))).toEqual(Object.fromEntries(Object.entries(servers).map(([id, u]) => [bare(id), u])));
    const health = (await (await fetch(`${j.url}/health`)).json()) as HealthResponse;
    expect(health.upstreams.map((u) => [u.name, u.kind, u.state])).toEqual([
      ['o1', 'ollama', 'up'],
      ['o2', 'ollama', 'up'],
      ['oa', 'openai', 'up'],
      ['local', 'embedded', 'up'],
    ]);
  });

  it('routes each model to its server: the GGUF to the engine, a fake’s model to that fake', async () => {
    const embedded = chat(j.url, { session: 'k-emb', model: TEST_MODEL, prompt: 'hello engine' });
    const big = chat(j.url, { session: 'k-oa', model: 'vendor/big-model', prompt: 'to-oa' });
    const only = chat(j.url, { session: 'k-o1', model: 'only-o1', prompt: 'to-o1' });
    await Promise.all([embedded.finished, big.finished, only.finished]);
    expect(embedded.terminal).toMatchObject({ type: 'done' });
    expect(embedded.text.length).toBeGreaterThan(0);
    expect(big.terminal).toMatchObject({ type: 'done' });
    expect(big.text).toBe('to-oa ok');
    expect(only.text).toBe('to-o1 ok');
    expect(oa.requests.map((r) => r.prompt)).toEqual(['to-oa']);
    expect(o1.requests.map((r) => r.prompt)).toEqual(['to-o1']);
    // The engine answered: its stream_end names it, and no fake saw the prompt.
    const trace = await embedded.streamId;
    expect((await waitForLog(j.logFile, 'stream_end', { trace })).fields.upstream).toBe('local');
    expect([...o1.requests, ...o2.requests, ...oa.requests].some((r) => r.prompt === 'hello engine')).toBe(false);
    const routed = events(j.logFile, 'upstream_routed', { trace });
    expect(routed.map((l) => l.fields.upstream)).toEqual(['local']);
    // A model no server has: the stream's error names what they serve, as one server's would.
    for (const model of ['nobody-has-it', 'hidden']) {
      const missing = chat(j.url, { session: `k-${model}`, model, prompt: 'x' });
      await missing.finished;
      expect(missing.terminal).toMatchObject({ type: 'error', code: 'model_not_found' });
      expect((missing.terminal as { message: string }).message).toContain('vendor/big-model');
    }
    expect(o2.requests).toEqual([]);
  });

  it('what a request asks for narrows the servers: n=2 only to the OpenAI-compatible one, whatever is idle', async () => {
    // `duo` is o1's and oa's (each spelling it its own way); o1 is first, so it takes what both could serve.
    const plain = chat(j.url, { session: 'k-duo-1', model: 'duo', prompt: 'duo-plain' });
    await plain.finished;
    expect(plain.terminal).toMatchObject({ type: 'done' });
    expect(o1.requests.at(-1)).toMatchObject({ model: 'duo:latest', prompt: 'duo-plain' });
    const two = await postJson(`${j.url}/v1/chat/completions`, { model: 'duo', n: 2, stream: false, messages: [{ role: 'user', content: 'duo-n2' }] });
    expect(two.status).toBe(200);
    expect(two.body.choices).toHaveLength(2);
    expect(oa.requests.at(-1)).toMatchObject({ model: 'duo', prompt: 'duo-n2' });
    expect(o1.requests.some((r) => r.prompt === 'duo-n2')).toBe(false);
    // oa down: n=2 has no server now. The client is told that one, not to go and find a server that serves n.
    const port = Number(new URL(oa.url).port);
    await oa.stop();
    // Its next request finds it gone (no other server has that model): the error says which server was tried.
    const gone = chat(j.url, { session: 'k-gone', model: 'vendor/big-model', prompt: 'x' });
    await gone.finished;
    expect(gone.terminal).toMatchObject({ type: 'error', code: 'upstream_unavailable', message: expect.stringMatching(/\(tried oa\)$/) });
    const none = await postJson(`${j.url}/v1/chat/completions`, { model: 'duo', n: 2, stream: false, messages: [{ role: 'user', content: 'duo-n2-down' }] });
    expect(none.body.error).toMatchObject({ code: 'upstream_unavailable', message: expect.stringMatching(/^every model server that serves 'duo' with n=2 is down: oa \(/) });
    expect(none.status).toBeGreaterThanOrEqual(500);
    await oa.start(port);
  });

  it('spreads a model two servers share between them', async () => {
    // Four at once, each held open until all four have started: least busy gives two to each.
    o1.plan = o2.plan = (prompt) => ({ tokens: Array.from({ length: 60 }, (_, i) => `${prompt}${i} `), tokenMs: 10 });
    const before = [o1.requests.length, o2.requests.length];
    const calls = [1, 2, 3, 4].map((i) => chat(j.url, { session: `k-s${i}`, model: 'shared', prompt: `s${i}` }));
    await Promise.all(calls.map((c) => c.firstToken()));
    expect([o1.requests.length - before[0]!, o2.requests.length - before[1]!]).toEqual([2, 2]);
    await Promise.all(calls.map((c) => c.finished));
    for (const c of calls) expect(c.terminal).toMatchObject({ type: 'done' });
    expect(oa.requests.some((r) => r.prompt.startsWith('s'))).toBe(false);
  });
});
