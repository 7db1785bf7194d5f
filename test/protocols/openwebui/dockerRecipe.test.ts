import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAI } from '../../helpers/fakes/fakeOpenAI.js';
import { spawnJarvis, type JarvisProcess } from '../../helpers/jarvisProcess.js';
import { startTestJarvis } from '../../helpers/jarvisServer.js';
import { call, openWebUi } from './openWebUiCalls.js';

// The Open WebUI-in-Docker recipe of docs/api.md#open-webui, in its exact
// environment: Jarvis started as the recipe says, and the requests Open WebUI's
// container sends, with `Host: host.docker.internal:8000` and the recipe's key.
// (No container runs here: the requests are what it would send.)

const KEY = 'owui-0123456789abcdef0123456789abcdef';
const DOCKER_HOST = 'host.docker.internal:8000';

/** Stops a spawned Jarvis and waits for it to exit. */
async function stop(p: JarvisProcess | undefined): Promise<void> {
  if (!p || p.proc.exitCode !== null) return;
  p.proc.kill('SIGTERM');
  await p.exited;
}

describe('the Docker recipe: HOST=0.0.0.0 with JARVIS_API_KEYS, Open WebUI given the key', () => {
  let fake: FakeOpenAI;
  let jarvis: JarvisProcess | undefined;
  beforeAll(async () => {
    fake = await new FakeOpenAI().start();
    fake.models = ['Qwen/Qwen3-8B'];
    // The recipe's variables, nothing else (the upstream here is a vLLM-shaped fake).
    jarvis = await spawnJarvis({ HOST: '0.0.0.0', JARVIS_API_KEYS: `openwebui:${KEY}`, JARVIS_BACKEND: 'openai', OPENAI_BASE_URL: `${fake.url}/v1` });
  });
  afterAll(async () => {
    await stop(jarvis);
    await fake.stop();
  });

  it('Open WebUI’s Ollama connection: version, tags, ps, show and a streamed chat pass', async () => {
    const owui = openWebUi(jarvis!.url, { host: DOCKER_HOST, key: KEY });
    expect(await owui.version()).toMatch(/^\d+\.\d+\.\d+/);
    const tags = await owui.tags();
    expect(tags.map((m) => m.model)).toEqual(['Qwen/Qwen3-8B:latest']);
    expect((await owui.ps()).map((m) => m.name)).toEqual(['Qwen/Qwen3-8B:latest']);
    await owui.show('Qwen/Qwen3-8B:latest');
    const lines = await owui.chat({ model: 'Qwen/Qwen3-8B:latest', messages: [{ role: 'user', content: 'Hi' }], stream: true, options: { temperature: 0.8 } });
    expect(lines.at(-1)).toMatchObject({ done: true, done_reason: 'stop' });
    expect(fake.requests.at(-1)!.model).toBe('Qwen/Qwen3-8B');
  });

  it('Open WebUI’s OpenAI connection (OPENAI_API_BASE_URL=…/v1, OPENAI_API_KEY): models and a streamed chat pass', async () => {
    const options = { host: DOCKER_HOST, key: KEY };
    const models = await call(jarvis!.url, 'GET', '/v1/models', undefined, options);
    expect(models.status).toBe(200);
    expect((JSON.parse(models.text) as { data: Array<{ id: string }> }).data.map((m) => m.id)).toEqual(['Qwen/Qwen3-8B']);
    const chat = await call(jarvis!.url, 'POST', '/v1/chat/completions', { model: 'Qwen/Qwen3-8B', messages: [{ role: 'user', content: 'Yo' }], stream: true }, options);
    expect(chat.status).toBe(200);
    expect(chat.text).toContain('"finish_reason":"stop"');
    expect(chat.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('without the key: 401; another name in Host: still 403 (the DNS-rebinding check stands)', async () => {
    expect((await call(jarvis!.url, 'GET', '/api/tags', undefined, { host: DOCKER_HOST })).status).toBe(401);
    const rebound = await call(jarvis!.url, 'GET', '/api/tags', undefined, { host: 'evil.example:8000', key: KEY });
    expect(rebound.status).toBe(403);
    expect(rebound.text).toContain('is not allowed');
  });
});

describe('without keys, host.docker.internal must be listed', () => {
  it('loopback without keys: 403 host_not_allowed, until JARVIS_ALLOWED_HOSTS=host.docker.internal (Docker Desktop)', async () => {
    const plain = await startTestJarvis({ JARVIS_BACKEND: 'demo' });
    try {
      const refused = await call(plain.url, 'GET', '/api/tags', undefined, { host: DOCKER_HOST });
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('JARVIS_ALLOWED_HOSTS');
    } finally {
      await plain.close();
    }
    const listed = await startTestJarvis({ JARVIS_BACKEND: 'demo', JARVIS_ALLOWED_HOSTS: 'host.docker.internal' });
    try {
      const owui = openWebUi(listed.url, { host: DOCKER_HOST });
      expect((await owui.tags()).map((m) => m.model)).toEqual(['jarvis-demo:latest']);
      const lines = await owui.chat({ model: 'jarvis-demo:latest', messages: [{ role: 'user', content: 'Hi' }], stream: true });
      expect(lines.at(-1)).toMatchObject({ done: true, done_reason: 'stop' });
    } finally {
      await listed.close();
    }
  });
});
