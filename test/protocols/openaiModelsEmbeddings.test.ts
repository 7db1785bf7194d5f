import OpenAI, { NotFoundError, BadRequestError, APIError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeEmbedding } from '../helpers/fakes/fakeUpstream.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';

// `/v1/models/{id}` and `/v1/embeddings`, driven by the official `openai` package.

let j: TestJarvis;
afterEach(async () => {
  await j?.close();
});

function client(t: TestJarvis): OpenAI {
  return new OpenAI({ baseURL: `${t.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
}

const MODEL = 'fake-llama:latest';

describe.each(['ollama', 'openai'] as const)('OpenAI models and embeddings in front of %s', (backend) => {
  it('retrieves a model by id, and 404s an unknown one in OpenAI\'s shape', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: backend });
    const c = client(j);
    expect(await c.models.retrieve(MODEL)).toMatchObject({ id: MODEL, object: 'model', owned_by: backend });
    const err = await c.models.retrieve('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).code).toBe('model_not_found');
    expect((err as NotFoundError).message).toMatch(/nope/);
    // vLLM's ids have a slash; the package sends it escaped, curl as is.
    j.fake!.models.push('meta-llama/Llama-3.1-8B-Instruct');
    expect((await c.models.retrieve('meta-llama/Llama-3.1-8B-Instruct')).id).toBe('meta-llama/Llama-3.1-8B-Instruct');
    const raw = await fetch(`${j.url}/v1/models/meta-llama/Llama-3.1-8B-Instruct`);
    expect(await raw.json()).toMatchObject({ id: 'meta-llama/Llama-3.1-8B-Instruct' });
  });

  it('embeds: the package default (base64) and floats, in input order, with usage', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: backend });
    const c = client(j);
    const res = await c.embeddings.create({ model: MODEL, input: ['hello world', 'a'] });
    expect(res).toMatchObject({ object: 'list', model: MODEL, usage: { prompt_tokens: 3, total_tokens: 3 } });
    expect(res.data.map((d) => d.index)).toEqual([0, 1]);
    res.data.forEach((d, i) => {
      const want = fakeEmbedding(['hello world', 'a'][i]!);
      expect(d.embedding).toHaveLength(want.length);
      d.embedding.forEach((v, k) => expect(v).toBeCloseTo(want[k]!, 6));
    });
    const floats = await c.embeddings.create({ model: MODEL, input: 'one', encoding_format: 'float' });
    expect(floats.data[0]!.embedding).toEqual(fakeEmbedding('one'));
    expect(j.fake!.embedRequests).toHaveLength(2);

    const missing = await c.embeddings.create({ model: 'nope', input: 'x' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(APIError);
    expect((missing as APIError).status).toBe(404);
    const tokens = await c.embeddings.create({ model: MODEL, input: [[1, 2, 3]] }).catch((e: unknown) => e);
    expect(tokens).toBeInstanceOf(BadRequestError);
  });
});

describe('OpenAI embeddings in front of the demo backend', () => {
  it('answers 501 with the reason: the demo has no embedding model', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'demo' });
    const err = await client(j).embeddings.create({ model: 'jarvis-demo', input: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(501);
    expect((err as APIError).code).toBe('unsupported');
    expect((err as APIError).message).toMatch(/no embedding model/);
  });
});
