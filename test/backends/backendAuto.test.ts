import { afterEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { DEMO_MODEL } from '../../src/backends/demo/backend.js';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { chat } from '../helpers/chatClient.js';
import { freePort } from '../helpers/freePort.js';
import { spawnJarvis, type JarvisProcess } from '../helpers/jarvisProcess.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, startEndBalance, waitForLog } from '../helpers/log.js';

// JARVIS_BACKEND=auto with an upstream that comes after Jarvis (docs/backends.md "Probing and auto mode"),
// and the demo refusing models it does not have.

let jarvis: JarvisProcess | undefined;
let fake: FakeOllama | undefined;
let j: TestJarvis | undefined;
afterEach(async () => {
  if (jarvis && jarvis.proc.exitCode === null) jarvis.proc.kill('SIGKILL');
  await fake?.stop();
  await j?.close();
  jarvis = fake = j = undefined;
});

async function health(url: string): Promise<{ backend: string; model: string | null }> {
  return (await (await fetch(`${url}/health`)).json()) as { backend: string; model: string | null };
}

describe('auto mode: Ollama started after Jarvis', () => {
  it('is picked up by the probe (backend_selected); /health follows; a stream on the demo finishes there; new requests stream from Ollama', async () => {
    const port = await freePort();
    jarvis = await spawnJarvis({ JARVIS_BACKEND: 'auto', OLLAMA_HOST: `http://127.0.0.1:${port}`, JARVIS_BACKEND_PROBE_MS: '200', JARVIS_DEMO_TOKEN_MS: '30' });
    expect(await health(jarvis.url)).toMatchObject({ backend: 'demo', model: DEMO_MODEL });
    const onDemo = chat(jarvis.url, { session: 'early', prompt: 'are you there?' });
    await onDemo.firstToken();

    fake = await new FakeOllama().start(port);
    fake.plan = (p) => ({ tokens: ['from ', 'ollama: ', p], tokenMs: 5 });
    const selected = await waitForLog(jarvis.logFile, 'backend_selected', { backend: 'ollama' });
    expect(selected.fields).toMatchObject({ choice: 'auto', previous: 'demo', model: fake.models[0] });
    expect(await health(jarvis.url)).toEqual(expect.objectContaining({ backend: 'ollama', model: fake.models[0] }));

    // The stream that started on the demo ends on the demo, untouched by the switch.
    await onDemo.finished;
    expect(onDemo.terminal?.type).toBe('done');
    expect(onDemo.text).toContain('offline demo backend');
    // It said what then happened: the switch, by itself, as the UI's demo banner says.
    expect(onDemo.text).toContain('Jarvis checks for it every few seconds and switches to it by itself, no restart needed.');

    const onOllama = chat(jarvis.url, { session: 'early', prompt: 'hello' });
    await onOllama.finished;
    expect(onOllama.terminal?.type).toBe('done');
    expect(onOllama.text).toBe('from ollama: hello');
    const models = (await (await fetch(`${jarvis.url}/v1/models`)).json()) as { data: Array<{ id: string; owned_by: string }> };
    expect(models.data.map((m) => m.id)).toEqual(fake.models);

    const starts = events(jarvis.logFile, 'stream_start');
    expect(starts.map((s) => s.fields.backend)).toEqual(['demo', 'ollama']);
    // The client has its `done` before the server logs `stream_end`: wait for the line, not on luck.
    for (const start of starts) await waitForLog(jarvis.logFile, 'stream_end', { trace: start.fields.trace! });
    expect(startEndBalance(jarvis.logFile)).toMatchObject({ starts: 2, ends: 2, unmatched: [] });
  });
});

describe('demo backend and a model it does not have', () => {
  it('gets model_not_found (NDJSON error event, and 404 from the OpenAI client), not the demo text under that name', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'demo' });
    const call = chat(j.url, { session: 'named', prompt: 'hi', model: 'llama3.2' });
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'error', code: 'model_not_found' });
    expect(call.text).toBe('');

    const client = new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const err = await client.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(404);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('model_not_found');

    const ok = chat(j.url, { session: 'named', prompt: 'hi', model: DEMO_MODEL });
    await ok.finished;
    expect(ok.terminal?.type).toBe('done');
  });
});
