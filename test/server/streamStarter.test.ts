import { afterEach, describe, expect, it } from 'vitest';
import { chat, postJson } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { startEndBalance, waitForLog } from '../helpers/log.js';

// Every route that starts a stream starts it the same way (src/server/streaming/starter.ts):
// once shutdown has begun, each refuses a new stream with the same 503, in its own
// protocol's shape, and starts nothing.

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});

describe('the one stream starter', () => {
  it('while shutting down: OpenAI, Ollama and a conversation prompt all get 503 shutting_down, and no stream starts', async () => {
    // An upstream that ignores the abort holds the shutdown open for half its grace: the window this test asks in.
    j = await startTestJarvis({ JARVIS_CANCEL_TIMEOUT_MS: '20000', JARVIS_SHUTDOWN_GRACE_MS: '10000' });
    j.fake!.plan = () => ({ tokens: Array.from({ length: 2000 }, (_, i) => `t${i} `), tokenMs: 10, ignoreAbort: true });
    const conv = (await postJson(`${j.url}/v1/conversations`, { title: 'x' })).body as { id: string };
    const running = chat(j.url, { session: 'running', prompt: 'x' });
    await running.firstToken();

    const closing = j.jarvis.close();
    await waitForLog(j.logFile, 'shutdown_start');
    const openai = await postJson(`${j.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }] });
    const ollama = await postJson(`${j.url}/api/chat`, { model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] });
    const prompt = await postJson(`${j.url}/v1/conversations/${conv.id}/messages`, { content: 'hi' });

    expect(openai.status).toBe(503);
    expect(openai.body.error.code).toBe('shutting_down');
    expect(ollama.status).toBe(503);
    expect(ollama.body.error).toMatch(/shutting down/);
    expect(prompt.status).toBe(503);
    expect(prompt.body.error.code).toBe('shutting_down');

    await closing;
    await running.finished;
    expect(running.terminal).toMatchObject({ type: 'cancelled', reason: 'shutdown' });
    // Only the running stream ever started (and ended).
    expect(startEndBalance(j.logFile)).toEqual({ starts: 1, ends: 1, unmatched: [] });
  }, 60_000);
});
