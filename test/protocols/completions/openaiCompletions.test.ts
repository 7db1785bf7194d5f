import OpenAI, { BadRequestError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPlan } from '../../helpers/fakes/fakeUpstream.js';
import type { FakeOpenAI } from '../../helpers/fakes/fakeOpenAI.js';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';
import { sseData } from '../../helpers/openaiWire.js';
import { TRICKY } from '../../helpers/scenarios/trickyText.js';

// POST /v1/completions through the openai package, in front of a fake Ollama
// (Jarvis sends /api/generate) and a fake OpenAI-compatible server (/v1/completions).
// docs/completions.md.

/** The fake Ollama places a suffix only for this one (its template has `.Suffix`). */
const FIM_MODEL = 'fake-qwen:latest';
const SLOW = 'slow prompt';
/** What the fake answers a prompt: 20 tokens naming it. */
const answerTo = (prompt: string) => defaultPlan(prompt).tokens.join('');

type CancelledChoice = OpenAI.Completions.CompletionChoice & { cancel_reason?: string };

describe.each(['ollama', 'openai'] as const)('/v1/completions in front of %s', (upstream) => {
  let j: TestJarvis;
  const client = (headers: Record<string, string> = {}) => new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'sk-test', maxRetries: 0, defaultHeaders: headers });
  const upstreamBody = () => j.fake!.requests.at(-1)!.body as Record<string, unknown>;
  const route = upstream === 'ollama' ? '/api/generate' : '/v1/completions';

  beforeAll(async () => {
    j = await startTestJarvis(upstream === 'openai' ? { JARVIS_BACKEND: 'openai' } : {});
    j.fake!.plan = (prompt) =>
      prompt === 'tricky' ? { tokens: TRICKY, tokenMs: 0 } : prompt.startsWith(SLOW) ? { tokens: Array.from({ length: 500 }, (_, i) => `s${i} `), tokenMs: 20 } : defaultPlan(prompt);
  });
  afterAll(async () => {
    await j?.close();
  });

  it(`a prompt and suffix, not streamed: one text_completion with usage; the upstream got them at ${route}`, async () => {
    const completion = await client().completions.create({ model: FIM_MODEL, prompt: 'def add(a, b):\n    ', suffix: '\n\nprint(add(1, 2))', max_tokens: 64, temperature: 0.2, stop: ['\n\n'] });
    expect(completion.object).toBe('text_completion');
    expect(completion.id).toMatch(/^cmpl-/);
    expect(completion.choices).toEqual([{ text: answerTo('def add(a, b):\n    '), index: 0, logprobs: null, finish_reason: 'stop' }]);
    expect(completion.usage).toEqual({ prompt_tokens: 7, completion_tokens: 20, total_tokens: 27 });
    const body = upstreamBody();
    expect(body).toMatchObject({ model: FIM_MODEL, prompt: 'def add(a, b):\n    ', suffix: '\n\nprint(add(1, 2))', stream: true });
    if (upstream === 'ollama') expect(body.options).toMatchObject({ num_predict: 64, temperature: 0.2, stop: ['\n\n'] });
    else expect(body).toMatchObject({ max_tokens: 64, temperature: 0.2, stop: ['\n\n'] });
  });

  it('streamed: text_completion chunks of choices[].text, a finish_reason, usage when asked, then [DONE]', async () => {
    const stream = await client().completions.create({ model: FIM_MODEL, prompt: 'fn main() {', suffix: '}', stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('text_completion');
      text += chunk.choices[0]?.text ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(answerTo('fn main() {'));
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ completion_tokens: 20 });
    expect(upstreamBody()).toMatchObject({ prompt: 'fn main() {', suffix: '}' });
  });

  it('every kind of text comes through exactly, streamed (the per-token fast path of each upstream shape)', async () => {
    let text = '';
    for await (const chunk of await client().completions.create({ model: FIM_MODEL, prompt: 'tricky', stream: true })) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(TRICKY.join(''));
  });

  it('echo writes the prompt before the completion, streamed and not; a prompt array of one string is that string', async () => {
    const whole = await client().completions.create({ model: FIM_MODEL, prompt: ['Once'], echo: true });
    expect(whole.choices[0]!.text).toBe('Once' + answerTo('Once'));
    const res = await fetch(`${j.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: FIM_MODEL, prompt: 'Twice', echo: true, stream: true }),
    });
    const data = await sseData(res);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1) as Array<{ choices: Array<{ text: string; finish_reason: string | null }> }>;
    expect(chunks[0]!.choices[0]!.text).toBe('Twice');
    expect(chunks.map((c) => c.choices[0]!.text).join('')).toBe('Twice' + answerTo('Twice'));
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
  });

  it('several prompts, token ids and n > 1 are 400s in words, before the upstream is asked', async () => {
    const before = j.fake!.requests.length;
    await expect(client().completions.create({ model: FIM_MODEL, prompt: ['a', 'b'] })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/one prompt per request/) });
    await expect(client().completions.create({ model: FIM_MODEL, prompt: [1, 2, 3] })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/token ids/) });
    await expect(client().completions.create({ model: FIM_MODEL, prompt: 'x', n: 2 })).rejects.toBeInstanceOf(BadRequestError);
    expect(j.fake!.requests.length).toBe(before);
  });

  it('a newer request on the session supersedes: finish_reason "stop" and cancel_reason "superseded"; the upstream is closed', async () => {
    const session = { 'X-Session-Id': `cmpl-${upstream}` };
    const first = await client(session).completions.create({ model: FIM_MODEL, prompt: SLOW, stream: true });
    const chunks: CancelledChoice[] = [];
    let second: Promise<OpenAI.Completions.Completion> | undefined;
    for await (const chunk of first) {
      chunks.push(...(chunk.choices as CancelledChoice[]));
      second ??= client(session).completions.create({ model: FIM_MODEL, prompt: 'next' });
    }
    expect(chunks.at(-1)).toMatchObject({ text: '', finish_reason: 'stop', cancel_reason: 'superseded' });
    expect((await second!).choices[0]!.text).toBe(answerTo('next'));
    const slow = await j.fake!.waitForRequest((r) => r.prompt === SLOW);
    await slow.closed;
    expect(slow.aborted).toBe(true);
    expect(slow.tokensSent).toBeLessThan(500);
  });

  it('an abort by the client closes the upstream request', async () => {
    const controller = new AbortController();
    const stream = await client().completions.create({ model: FIM_MODEL, prompt: `${SLOW} to abort`, suffix: 'end', stream: true }, { signal: controller.signal });
    for await (const _chunk of stream) {
      controller.abort();
      break;
    }
    const record = await j.fake!.waitForRequest((r) => r.prompt === `${SLOW} to abort`);
    await record.closed;
    expect(record.aborted).toBe(true);
    expect(record.tokensSent).toBeLessThan(500);
  });

  // docs/completions.md "A cancelled completion": the Stop endpoint, like a supersede, ends the
  // choice with finish_reason "stop" and Jarvis's reason beside it, and closes the upstream request.
  it('the Stop endpoint ends a stream:false completion with what it had, cancel_reason "stopped"; the upstream is closed', async () => {
    const session = `cmpl-stop-${upstream}`;
    const pending = client({ 'X-Session-Id': session }).completions.create({ model: FIM_MODEL, prompt: `${SLOW} to stop` });
    const record = await j.fake!.waitForRequest((r) => r.prompt === `${SLOW} to stop`);
    await expect.poll(() => record.tokensSent, { timeout: 10_000 }).toBeGreaterThan(2);
    const stop = await fetch(`${j.url}/v1/sessions/${session}/stop`, { method: 'POST' });
    expect(await stop.json()).toMatchObject({ stopped: true });
    const completion = await pending;
    expect(completion.choices[0]).toMatchObject({ finish_reason: 'stop', cancel_reason: 'stopped', text: expect.stringMatching(/^s0 s1 /) });
    await record.closed;
    expect(record.aborted).toBe(true);
    expect(record.tokensSent).toBeLessThan(500);
  });

  if (upstream === 'ollama') {
    it("a suffix for a model whose template has no place for it: Ollama's own 400, passed on", async () => {
      await expect(client().completions.create({ model: 'fake-llama:latest', prompt: 'x', suffix: 'y' })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/does not support insert/) });
    });
  } else {
    it('a server without /v1/completions: a 400 naming it and the servers that have one', async () => {
      (j.fake as FakeOpenAI).completions = false;
      try {
        const err = (await client().completions.create({ model: FIM_MODEL, prompt: 'x' }).catch((e: unknown) => e)) as BadRequestError;
        expect(err).toBeInstanceOf(BadRequestError);
        expect(err.message).toMatch(/OpenAI-compatible server at http:\/\/127\.0\.0\.1:\d+\/v1 does not serve text completions .*404.*vLLM, llama\.cpp/);
        expect((err.error as { code?: string }).code).toBe('unsupported_by_backend');
      } finally {
        (j.fake as FakeOpenAI).completions = true;
      }
    });
  }
});
