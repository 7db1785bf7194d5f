import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPlan } from '../../helpers/fakes/fakeUpstream.js';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';

// Jarvis's Ollama API /api/generate with `raw` and `suffix` (docs/completions.md),
// through the ollama package and as Continue's Ollama provider sends it, passed on
// to a fake Ollama's /api/generate or a fake OpenAI-compatible /v1/completions.

const FIM_MODEL = 'fake-qwen:latest';
const answerTo = (prompt: string) => defaultPlan(prompt).tokens.join('');

describe.each(['ollama', 'openai'] as const)('/api/generate with raw and suffix in front of %s', (upstream) => {
  let j: TestJarvis;
  const client = () => new Ollama({ host: j.url });
  const upstreamRequest = () => j.fake!.requests.at(-1)!;

  beforeAll(async () => {
    j = await startTestJarvis(upstream === 'openai' ? { JARVIS_BACKEND: 'openai' } : {});
  });
  afterAll(async () => {
    await j?.close();
  });

  it('generate({ prompt, suffix, raw }) streams `response` parts, and the upstream gets prompt and suffix as sent', async () => {
    let text = '';
    let last: { done: boolean; done_reason?: string; context?: number[]; eval_count?: number } | undefined;
    for await (const part of await client().generate({ model: FIM_MODEL, prompt: 'def f(x):\n', suffix: '\nreturn y', raw: true, stream: true, options: { num_predict: 32, stop: ['\n\n'] } })) {
      text += part.response;
      last = part;
    }
    expect(text).toBe(answerTo('def f(x):\n'));
    expect(last).toMatchObject({ done: true, done_reason: 'stop', eval_count: 20 });
    // No conversation to continue: Ollama returns no context for a raw prompt either.
    expect(last!.context).toBeUndefined();
    const body = upstreamRequest().body as Record<string, unknown>;
    expect(body).toMatchObject({ prompt: 'def f(x):\n', suffix: '\nreturn y' });
    if (upstream === 'ollama') expect(body).toMatchObject({ raw: true, options: { num_predict: 32, stop: ['\n\n'] } });
    else expect(body).toMatchObject({ max_tokens: 32, stop: ['\n\n'] });
  });

  it('raw alone completes the prompt as written (no chat turn around it), not streamed', async () => {
    const prompt = '<|fim_prefix|>a = <|fim_suffix|>\n<|fim_middle|>';
    const reply = await client().generate({ model: FIM_MODEL, prompt, raw: true, stream: false });
    expect(reply).toMatchObject({ done: true, response: answerTo(prompt) });
    const record = upstreamRequest();
    expect(record.prompt).toBe(prompt);
    expect((record.body as Record<string, unknown>).messages).toBeUndefined();
  });

  if (upstream === 'ollama') {
    it("Continue's autocomplete: /api/show's template names .Suffix, then a streamed /api/generate with raw, suffix and its options", async () => {
      // Continue reads the template to decide whether the model fills in the middle.
      const show = await client().show({ model: FIM_MODEL });
      expect(show.template).toContain('.Suffix');
      // Its request, as core/llm/llms/Ollama.ts builds it (_getGenerateOptions).
      const res = await fetch(`${j.url}/api/generate`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          model: FIM_MODEL,
          prompt: 'function add(a, b) {\n  ',
          suffix: '\n}\n',
          raw: true,
          options: { temperature: 0.01, num_predict: 256, stop: ['<|endoftext|>', '\n\n'], num_ctx: 8096 },
          keep_alive: 1800,
          stream: true,
        }),
      });
      expect(res.status).toBe(200);
      const lines = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { response: string; done: boolean; error?: string });
      expect(lines.every((l) => l.error === undefined)).toBe(true);
      expect(lines.map((l) => l.response).join('')).toBe(answerTo('function add(a, b) {\n  '));
      expect(lines.at(-1)!.done).toBe(true);
      expect(upstreamRequest().body).toMatchObject({ raw: true, suffix: '\n}\n', keep_alive: 1800, options: { num_ctx: 8096, num_predict: 256 } });
    });
  }
});
