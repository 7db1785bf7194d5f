import { afterEach, describe, expect, it } from 'vitest';
import type { HealthResponse, ModelList } from '../../src/shared/events.js';
import { chat } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';

// With no Ollama answering, `auto` falls back to the offline demo backend, which
// streams an honest, deterministic reply with the same events and rules.

let j: TestJarvis;
afterEach(async () => {
  await j?.close();
});

describe('demo backend', () => {
  it('is chosen by auto when Ollama does not answer, and says so in /health and the log', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'auto', OLLAMA_HOST: 'http://127.0.0.1:9' }, { fake: false });
    const health = (await (await fetch(`${j.url}/health`)).json()) as HealthResponse;
    expect(health).toMatchObject({ status: 'ok', backend: 'demo', model: 'jarvis-demo', active_streams: 0 });
    const selected = await waitForLog(j.logFile, 'backend_selected');
    expect(selected.fields).toMatchObject({ backend: 'demo', choice: 'auto' });
    expect(selected.fields.reason).toContain('ollama not answering');
    const models = (await (await fetch(`${j.url}/v1/models`)).json()) as ModelList;
    expect(models.data.map((m) => m.id)).toEqual(['jarvis-demo']);
  });

  it('streams an honest reply token by token: it is the demo, and how to point Jarvis at a model', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'demo' });
    const call = chat(j.url, { session: 'demo-1', prompt: 'What is the capital of France?' });
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'done', reason: 'stop' });
    expect(call.events.filter((e) => e.type === 'token').length).toBeGreaterThan(20);
    expect(call.text).toContain('demo backend');
    expect(call.text).toContain('What is the capital of France?');
    expect(call.text).toContain('OLLAMA_HOST');
    // JARVIS_BACKEND=demo never switches by itself, and the reply says so.
    expect(call.text).toContain('start Jarvis again with JARVIS_BACKEND=auto (the default)');
    expect(call.text).not.toContain('switches to it by itself');
    // Deterministic: the same prompt gives the same reply.
    const again = chat(j.url, { session: 'demo-2', prompt: 'What is the capital of France?' });
    await again.finished;
    expect(again.text).toBe(call.text);
  });

  it('honours max_tokens with finish reason length, and supersede like any backend', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'demo', JARVIS_DEMO_TOKEN_MS: '20' });
    const short = chat(j.url, { session: 'demo-3', body: { messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 } });
    await short.finished;
    expect(short.events.filter((e) => e.type === 'token')).toHaveLength(3);
    expect(short.terminal).toMatchObject({ type: 'done', reason: 'length', usage: { completion_tokens: 3 } });

    const a = chat(j.url, { session: 'demo-4', prompt: 'A' });
    await a.firstToken();
    const b = chat(j.url, { session: 'demo-4', prompt: 'B' });
    await Promise.all([a.finished, b.finished]);
    expect(a.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    expect(b.terminal?.type).toBe('done');
  });
});
