import OpenAI, { BadRequestError } from 'openai';
import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';
import { waitForLog } from '../../helpers/log.js';
import { cancelVerdicts, ENGINE_HOW, SEED, startEmbeddedJarvis, TINY_MODEL } from '../../helpers/services/embeddedJarvis.js';

// Text completions on the backends without an upstream (docs/completions.md): the demo
// completes a prompt with its canned text and refuses a suffix; the embedded engine
// completes a prompt with real tokens (LlamaCompletion) and refuses a suffix for a
// model without fill-in-the-middle tokens, as the tiny test GGUF is.

const client = (j: TestJarvis) => new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });

describe('completions on the demo backend', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'demo' });
  });
  afterAll(async () => {
    await j?.close();
  });

  it('a prompt completes with the demo text, streamed and not', async () => {
    const whole = await client(j).completions.create({ model: 'jarvis-demo', prompt: 'The capital of France is', max_tokens: 12 });
    expect(whole.choices[0]!.text).toMatch(/^This is Jarvis's offline demo backend/);
    expect(whole.choices[0]!.finish_reason).toBe('length');
    let text = '';
    for await (const chunk of await client(j).completions.create({ model: 'jarvis-demo', prompt: 'Hello', stream: true, max_tokens: 30 })) text += chunk.choices[0]?.text ?? '';
    expect(text).toContain('"Hello"');
  });

  it('a suffix is a 400 that names the demo and what would serve it, on /v1/completions and /api/generate', async () => {
    const err = (await client(j).completions.create({ model: 'jarvis-demo', prompt: 'a', suffix: 'b' }).catch((e: unknown) => e)) as BadRequestError;
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.message).toMatch(/the demo backend cannot fill in the middle \(suffix\).*Ollama.*llama\.cpp or vLLM/);
    expect((err.error as { code?: string }).code).toBe('unsupported_by_backend');
    await expect(new Ollama({ host: j.url }).generate({ model: 'jarvis-demo', prompt: 'a', suffix: 'b' })).rejects.toMatchObject({ status_code: 400, error: expect.stringMatching(/demo backend cannot fill in the middle/) });
  });
});

describe('completions on the embedded engine', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startEmbeddedJarvis();
  });
  afterAll(async () => {
    await j?.close();
  });

  it('a plain prompt completes with real tokens, the same for the same seed, streamed and not', async () => {
    const body = { model: TINY_MODEL, prompt: 'Once upon a time', max_tokens: 16, seed: SEED, temperature: 0 };
    const whole = await client(j).completions.create(body);
    expect(whole.choices[0]!.text.length).toBeGreaterThan(0);
    expect(whole.choices[0]!.finish_reason).toBe('length');
    expect(whole.usage!.completion_tokens).toBe(16);
    expect(whole.usage!.prompt_tokens).toBeGreaterThan(0);
    let text = '';
    for await (const chunk of await client(j).completions.create({ ...body, stream: true })) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(whole.choices[0]!.text);
    // Ollama's raw generate is the same completion.
    const raw = await new Ollama({ host: j.url }).generate({ model: TINY_MODEL, prompt: 'Once upon a time', raw: true, options: { num_predict: 16, seed: SEED, temperature: 0 } });
    expect(raw.response).toBe(whole.choices[0]!.text);
  });

  it('a suffix for a model without fill-in-the-middle tokens is a 400 that says so', async () => {
    const err = (await client(j).completions.create({ model: TINY_MODEL, prompt: 'def f(', suffix: ')' }).catch((e: unknown) => e)) as BadRequestError;
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.message).toMatch(new RegExp(`the model ${TINY_MODEL} has no fill-in-the-middle tokens`));
    // The sequence went back: the next request is served.
    const next = await client(j).completions.create({ model: TINY_MODEL, prompt: 'x', max_tokens: 2 });
    expect(next.choices[0]!.finish_reason).toBe('length');
  });

  it('an abort stops the engine: the sequence is free again (cancel confirmed)', async () => {
    const controller = new AbortController();
    const { data: stream, response } = await client(j).completions.create({ model: TINY_MODEL, prompt: 'Abort me', max_tokens: 4000, stream: true }, { signal: controller.signal }).withResponse();
    const streamId = response.headers.get('x-stream-id')!;
    for await (const _chunk of stream) {
      controller.abort();
      break;
    }
    await waitForLog(j.logFile, 'stream_end', { trace: streamId });
    expect(cancelVerdicts(j.logFile, (l) => l.fields.trace === streamId)).toEqual([{ trace: streamId, reason: 'client_closed', cancel: 'confirmed', how: ENGINE_HOW }]);
  });
});
