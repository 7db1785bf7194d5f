import OpenAI, { BadRequestError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeLlamaServer } from '../../helpers/fakes/fakeLlamaServer.js';
import { defaultPlan } from '../../helpers/fakes/fakeUpstream.js';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';

// llama.cpp's /v1/completions ignores `suffix`; its fill-in-the-middle is /infill.
// Jarvis, knowing the server is llama-server from its /slots answer (slots, or the
// 501 it gives without --slots), sends a suffix there (docs/completions.md).

const MODEL = 'fake-llama:latest';
const answerTo = (prompt: string) => defaultPlan(prompt).tokens.join('');

let j: TestJarvis | undefined;
let fake: FakeLlamaServer | undefined;
afterEach(async () => {
  await j?.close();
  await fake?.stop();
  j = undefined;
  fake = undefined;
});

async function jarvisBefore(server: FakeLlamaServer): Promise<OpenAI> {
  j = await startTestJarvis({ JARVIS_BACKEND: 'openai', OPENAI_BASE_URL: `${server.url}/v1` }, { fake: false });
  return new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
}

describe('fill-in-the-middle in front of llama.cpp', () => {
  it.each([{ noSlots: false }, { noSlots: true }])('a suffix goes to /infill as input_prefix and input_suffix (slots off: $noSlots); a plain prompt to /v1/completions', async (options) => {
    fake = await new FakeLlamaServer(options).start();
    const client = await jarvisBefore(fake);
    let text = '';
    let finish: string | null = null;
    for await (const chunk of await client.completions.create({ model: MODEL, prompt: 'def f(', suffix: '):\n    pass', stream: true, max_tokens: 40, stop: ['\n'] })) {
      text += chunk.choices[0]?.text ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(answerTo('def f('));
    expect(finish).toBe('stop');
    expect(fake.requests.at(-1)!.body).toMatchObject({ input_prefix: 'def f(', input_suffix: '):\n    pass', n_predict: 40, stop: ['\n'], stream: true });

    const plain = await client.completions.create({ model: MODEL, prompt: 'Once' });
    expect(plain.choices[0]!.text).toBe(answerTo('Once'));
    expect(plain.usage).toMatchObject({ completion_tokens: 20 });
    expect(fake.requests.at(-1)!.body).toMatchObject({ model: MODEL, prompt: 'Once' });
  });

  it("a model without FIM tokens: llama-server's 501 becomes a 400 that says so", async () => {
    fake = await new FakeLlamaServer().start();
    fake.noInfill = true;
    const client = await jarvisBefore(fake);
    const err = (await client.completions.create({ model: MODEL, prompt: 'a', suffix: 'b' }).catch((e: unknown) => e)) as BadRequestError;
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.message).toMatch(/cannot fill in the middle.*Infill is not supported by this model/);
  });
});
