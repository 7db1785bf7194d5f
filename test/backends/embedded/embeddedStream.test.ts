import { afterEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { chat } from '../../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';
import { waitForLog } from '../../helpers/log.js';
import { EMBEDDED_TEST_ENV, TEST_MODEL } from '../kindFakes.js';

// The embedded engine behind a real Jarvis, on the tiny GGUF (docs/embedded.md): tokens stream
// as NDJSON and OpenAI SSE/JSON, the first request loads the model and says so, a fixed seed
// gives the same text.

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});

const body = (content: string, extra: Record<string, unknown> = {}) => ({ model: TEST_MODEL, messages: [{ role: 'user', content }], max_tokens: 40, seed: 7, temperature: 0.8, ...extra });

describe('the embedded engine', () => {
  it('streams NDJSON tokens and done with usage; the first request loads the model (a loading_model status)', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'embedded', ...EMBEDDED_TEST_ENV }, { fake: false });
    const call = chat(j.url, { session: 'embedded-ndjson', body: body('Hello there') });
    const events = await call.finished;
    expect(call.terminal).toMatchObject({ type: 'done', reason: 'length', usage: { completion_tokens: 40 } });
    expect((call.terminal as { usage: { prompt_tokens: number } }).usage.prompt_tokens).toBeGreaterThan(3);
    const tokens = events.filter((e) => e.type === 'token');
    expect(tokens.length).toBeGreaterThan(10);
    expect(call.text.length).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === 'status').map((e) => (e as { status: string }).status)).toEqual(['thinking', 'loading_model']);
    await waitForLog(j.logFile, 'engine_model_loaded', { model: TEST_MODEL });

    // Loaded now: no loading status; the same seed gives the same text.
    const again = chat(j.url, { session: 'embedded-ndjson', body: body('Hello there') });
    const againEvents = await again.finished;
    expect(againEvents.filter((e) => e.type === 'status').map((e) => (e as { status: string }).status)).toEqual(['thinking']);
    expect(again.text).toBe(call.text);
  });

  it('answers the openai package, streamed (SSE) and not (JSON)', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'embedded', ...EMBEDDED_TEST_ENV }, { fake: false });
    const client = new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.chat.completions.create({ ...body('Hi'), stream: true, stream_options: { include_usage: true } } as OpenAI.ChatCompletionCreateParamsStreaming);
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBe('length');
    expect(usage?.completion_tokens).toBe(40);

    const completion = await client.chat.completions.create({ ...body('Hi'), stream: false } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(completion.choices[0]?.message.content).toBe(text);
    expect(completion.usage?.completion_tokens).toBe(40);
  });
});
