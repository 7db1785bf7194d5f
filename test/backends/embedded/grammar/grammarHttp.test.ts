// response_format, tools and embeddings through a real Jarvis on the embedded
// engine and the tiny GGUF, with the openai and ollama packages (docs/embedded.md,
// "JSON output, tools and embeddings").
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../../../helpers/jarvisServer.js';
import { EMBEDDED_TEST_ENV, TEST_MODEL } from '../../kindFakes.js';
import { TEST_SCHEMAS } from './grammarSchemas.js';

let j: TestJarvis;
let client: OpenAI;

beforeAll(async () => {
  j = await startTestJarvis({ JARVIS_BACKEND: 'embedded', ...EMBEDDED_TEST_ENV }, { fake: false });
  client = new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'unused', maxRetries: 0 });
}, 60_000);

afterAll(async () => {
  await j?.close();
});

const ask = { model: TEST_MODEL, messages: [{ role: 'user' as const, content: 'Answer in JSON.' }], max_tokens: 120, temperature: 1 };

describe('JSON output, tools and embeddings over HTTP', () => {
  it('answers json_schema with JSON that follows the schema, streamed and not', async () => {
    const schema = TEST_SCHEMAS.person ?? {};
    const validate = new Ajv2020({ strict: false }).compile(schema);
    const response_format = { type: 'json_schema' as const, json_schema: { name: 'person', schema } };
    for (let seed = 1; seed <= 5; seed++) {
      const completion = await client.chat.completions.create({ ...ask, seed, response_format });
      const content = completion.choices[0]?.message.content ?? '';
      expect(completion.choices[0]?.finish_reason, content).toBe('stop');
      expect(validate(JSON.parse(content)), content).toBe(true);
      const stream = await client.chat.completions.create({ ...ask, seed, response_format, stream: true });
      let streamed = '';
      for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
      expect(streamed).toBe(content);
    }
    const object = await client.chat.completions.create({ ...ask, seed: 3, response_format: { type: 'json_object' } });
    expect(typeof JSON.parse(object.choices[0]?.message.content ?? '')).toBe('object');
  }, 120_000);

  it('answers the ollama package\'s format (a schema, and "json")', async () => {
    const schema = TEST_SCHEMAS.nested ?? {};
    const validate = new Ajv2020({ strict: false }).compile(schema);
    const ollama = new Ollama({ host: j.url });
    for (let seed = 1; seed <= 3; seed++) {
      const reply = await ollama.chat({ model: TEST_MODEL, messages: [{ role: 'user', content: 'JSON please' }], format: schema, options: { seed, temperature: 1, num_predict: 200 } });
      expect(validate(JSON.parse(reply.message.content)), reply.message.content).toBe(true);
    }
    const free = await ollama.chat({ model: TEST_MODEL, messages: [{ role: 'user', content: 'JSON please' }], format: 'json', options: { seed: 2, num_predict: 100 } });
    expect(typeof JSON.parse(free.message.content)).toBe('object');
  }, 60_000);

  it('refuses a schema it cannot follow, in words', async () => {
    const bad = client.chat.completions.create({ ...ask, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { $ref: 'https://example.com/x.json' } } } });
    await expect(bad).rejects.toMatchObject({ status: 400 });
    await expect(bad).rejects.toThrow(/points outside the schema/);
  });

  it('gives a tool call when one is required, with an OpenAI-like id, and takes its result back', async () => {
    const tools = [
      { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
    ];
    const completion = await client.chat.completions.create({ ...ask, seed: 5, tools, tool_choice: 'required' });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    const call = choice?.message.tool_calls?.[0];
    expect(call?.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
    if (call?.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_weather');
    expect(typeof JSON.parse(call.function.arguments).city).toBe('string');

    // The result goes back; the model answers (random words) with the tools still offered.
    const next = await client.chat.completions.create({
      ...ask,
      seed: 5,
      max_tokens: 30,
      tools,
      messages: [...ask.messages, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: '{"temp":21}' }],
    });
    expect(['stop', 'length', 'tool_calls']).toContain(next.choices[0]?.finish_reason);
  }, 60_000);

  it('makes embeddings for /v1/embeddings and /api/embed', async () => {
    const openai = await client.embeddings.create({ model: TEST_MODEL, input: ['hello', 'world'] });
    expect(openai.data).toHaveLength(2);
    expect(openai.data[0]?.embedding.length).toBeGreaterThan(0);
    expect(openai.usage.prompt_tokens).toBeGreaterThan(0);
    const ollama = new Ollama({ host: j.url });
    const embedded = await ollama.embed({ model: TEST_MODEL, input: ['hello', 'world'] });
    expect(embedded.embeddings).toHaveLength(2);
    expect(embedded.embeddings[0]?.[0]).toBeCloseTo(openai.data[0]?.embedding[0] ?? NaN, 5);
    await expect(ollama.embed({ model: TEST_MODEL, input: 'word '.repeat(5000), truncate: false })).rejects.toThrow(/truncate/);
  }, 60_000);
});
