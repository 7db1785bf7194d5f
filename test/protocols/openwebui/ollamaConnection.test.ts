import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';
import { openWebUi, type OllamaLine } from './openWebUiCalls.js';

// Open WebUI connected to Jarvis's Ollama API: the calls its backend makes
// (backend/open_webui/routers/ollama.py), in its order and with its bodies,
// against Jarvis in front of an OpenAI-compatible server (vLLM/llama.cpp ids
// without a tag), an Ollama and the demo (docs/api.md#ollama-api).
//
// Open WebUI keys a model by the `model` field of /api/tags, and before a chat it
// appends `:latest` to a name without `:`. So Jarvis lists `plain` as `plain:latest`
// and maps it back: the upstream must receive its own id.

const SYSTEM = 'You are a helpful assistant.';

/** What Open WebUI sends for a chat (convert_payload_openai_to_ollama: options, keep_alive, think, format at the top). */
function chatBody(model: string, prompt: string, stream: boolean, extra: Record<string, unknown> = {}) {
  return {
    model,
    messages: [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: prompt },
    ],
    stream,
    options: { temperature: 0.8, top_p: 0.9, num_ctx: 2048, num_predict: 1024, stop: ['<|im_end|>'] },
    keep_alive: '5m',
    ...extra,
  };
}

const textOf = (lines: OllamaLine[]) => lines.map((l) => l.message?.content ?? '').join('');

describe('Open WebUI → Jarvis Ollama API → OpenAI-compatible upstream (untagged ids)', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
    j.fake!.models = ['plain', 'Qwen/Qwen3-8B', 'nomic-embed-text'];
  });
  afterAll(() => j.close());

  it('connection check, model list and loaded models list every model with a tag, in `model` and `name`', async () => {
    const owui = openWebUi(j.url);
    const version = await owui.version();
    // Open WebUI compares versions as integers: re.sub(r"^v|-.*", "", v).split(".")
    expect(version.replace(/^v|-.*/g, '').split('.').every((n) => /^\d+$/.test(n))).toBe(true);
    const tags = await owui.tags();
    expect(tags.map((m) => [m.model, m.name])).toEqual([
      ['plain:latest', 'plain:latest'],
      ['Qwen/Qwen3-8B:latest', 'Qwen/Qwen3-8B:latest'],
      ['nomic-embed-text:latest', 'nomic-embed-text:latest'],
    ]);
    const ps = await owui.ps();
    expect(ps.map((m) => m.name)).toEqual(tags.map((m) => m.name));
    for (const m of ps) expect(Number.isNaN(Date.parse(m.expires_at))).toBe(false);
    const shown = await owui.show('Qwen/Qwen3-8B:latest');
    expect(shown.capabilities).toContain('completion');
    // The OpenAI API keeps the upstream's ids.
    const v1 = (await (await fetch(`${j.url}/v1/models`)).json()) as { data: Array<{ id: string }> };
    expect(v1.data.map((m) => m.id)).toEqual(['plain', 'Qwen/Qwen3-8B', 'nomic-embed-text']);
  });

  it('chats streamed and not under the tagged name; the upstream is sent its own id', async () => {
    const owui = openWebUi(j.url);
    const before = j.fake!.requests.length;
    const lines = await owui.chat(chatBody('Qwen/Qwen3-8B:latest', 'Hi', true, { think: false }));
    expect(textOf(lines)).toBe(Array.from({ length: 20 }, (_, i) => `Hi#${i} `).join(''));
    expect(lines.at(-1)).toMatchObject({ model: 'Qwen/Qwen3-8B:latest', done: true, done_reason: 'stop' });
    expect(lines.every((l) => l.model === 'Qwen/Qwen3-8B:latest')).toBe(true);
    // The title / follow-up tasks: stream false, a JSON schema in `format`.
    const [title] = await owui.chat(chatBody('plain:latest', 'Title', false, { format: { type: 'object', properties: { title: { type: 'string' } } } }));
    expect(title).toMatchObject({ model: 'plain:latest', done: true, done_reason: 'stop', message: { role: 'assistant' } });
    expect(title!.message!.content).toContain('Title#0');
    const sent = j.fake!.requests.slice(before);
    expect(sent.map((r) => r.model)).toEqual(['Qwen/Qwen3-8B', 'plain']);
    expect(sent[0]!.body).toMatchObject({ temperature: 0.8, top_p: 0.9, max_tokens: 1024, stop: ['<|im_end|>'], stream: true });
    expect(sent[1]!.body).toMatchObject({ response_format: { type: 'json_schema' } });
  });

  it('either form works on every route: untagged chat, generate, show, embed, load and unload', async () => {
    const owui = openWebUi(j.url);
    const before = j.fake!.requests.length;
    const [plain] = await owui.chat(chatBody('plain', 'Bare', false));
    expect(plain).toMatchObject({ model: 'plain', done_reason: 'stop' });
    const generated = await owui.generate({ model: 'plain:latest', prompt: 'Gen', stream: false });
    expect(generated).toMatchObject({ model: 'plain:latest', done: true, done_reason: 'stop' });
    expect(j.fake!.requests.slice(before).map((r) => r.model)).toEqual(['plain', 'plain']);
    expect((await owui.show('plain')).capabilities).toContain('completion');
    const embedded = await owui.embed({ model: 'nomic-embed-text:latest', input: ['a doc', 'another'] });
    expect(embedded.embeddings).toHaveLength(2);
    expect(j.fake!.embedRequests.at(-1)).toMatchObject({ model: 'nomic-embed-text' });
    // Open WebUI's "load" (empty messages) and its unload (/api/unload → generate, keep_alive 0, empty prompt).
    expect(await owui.chat({ model: 'plain:latest', messages: [], keep_alive: '5m' })).toMatchObject([{ model: 'plain:latest', done_reason: 'load' }]);
    expect(await owui.generate({ model: 'plain:latest', keep_alive: 0, prompt: '' })).toMatchObject({ model: 'plain:latest', done_reason: 'unload' });
    // A model the upstream lacks, in either form, is Ollama's 404.
    const missing = await fetch(`${j.url}/api/chat`, { method: 'POST', body: JSON.stringify(chatBody('missing:latest', 'x', false)) });
    expect(missing.status).toBe(404);
  });
});

describe('Open WebUI → Jarvis Ollama API → Ollama and the demo', () => {
  it('in front of Ollama, names pass as Ollama lists them, streamed and not', async () => {
    const j = await startTestJarvis();
    try {
      const owui = openWebUi(j.url);
      const tags = await owui.tags();
      expect(tags.map((m) => m.model)).toEqual(['fake-llama:latest', 'fake-qwen:latest']);
      expect((await owui.ps()).map((m) => m.name)).toEqual(['fake-llama:latest']);
      await owui.show('fake-llama:latest');
      const lines = await owui.chat(chatBody('fake-llama:latest', 'Hi', true, { think: false }));
      expect(lines.at(-1)).toMatchObject({ model: 'fake-llama:latest', done_reason: 'stop' });
      const [one] = await owui.chat(chatBody('fake-qwen', 'One', false));
      expect(one).toMatchObject({ model: 'fake-qwen', done_reason: 'stop' });
      expect(j.fake!.requests.map((r) => r.model)).toEqual(['fake-llama:latest', 'fake-qwen:latest']);
      expect(j.fake!.requests[0]!.body).toMatchObject({ options: { num_ctx: 2048, temperature: 0.8 }, keep_alive: '5m', think: false });
      expect((await owui.embed({ model: 'fake-llama:latest', input: 'q' })).embeddings).toHaveLength(1);
    } finally {
      await j.close();
    }
  });

  it('on the demo, jarvis-demo is listed as jarvis-demo:latest and chats in either form', async () => {
    const j = await startTestJarvis({ JARVIS_BACKEND: 'demo' });
    try {
      const owui = openWebUi(j.url);
      expect((await owui.tags()).map((m) => [m.model, m.name])).toEqual([['jarvis-demo:latest', 'jarvis-demo:latest']]);
      expect((await owui.ps()).map((m) => m.name)).toEqual(['jarvis-demo:latest']);
      await owui.show('jarvis-demo:latest');
      const lines = await owui.chat(chatBody('jarvis-demo:latest', 'Hello demo', true));
      expect(textOf(lines)).toContain('Hello demo');
      expect(lines.at(-1)).toMatchObject({ model: 'jarvis-demo:latest', done_reason: 'stop' });
      const [bare] = await owui.chat(chatBody('jarvis-demo', 'Again', false));
      expect(bare).toMatchObject({ model: 'jarvis-demo', done_reason: 'stop' });
      expect(bare!.message!.content).toContain('Again');
    } finally {
      await j.close();
    }
  });
});
