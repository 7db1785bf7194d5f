import OpenAI, { APIError, BadRequestError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPlan } from '../../helpers/scenarios/agentPlan.js';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';

// The openai package's Responses calls (client.responses.create / .stream) through
// Jarvis in front of a fake Ollama and a fake OpenAI-compatible server (docs/responses.md).

const MODEL = 'fake-llama:latest';
const HELLO = 'Hello from the fake.';
const weather: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

describe.each(['ollama', 'openai'] as const)('openai responses.* through Jarvis in front of %s', (upstream) => {
  let j: TestJarvis;
  let client: OpenAI;
  beforeAll(async () => {
    j = await startTestJarvis(upstream === 'openai' ? { JARVIS_BACKEND: 'openai' } : {});
    j.fake!.plan = agentPlan;
    client = new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
  });
  afterAll(async () => {
    await j?.close();
  });
  const lastUpstreamBody = () => j.fake!.requests.at(-1)!.body as Record<string, unknown>;

  it('create() with a string input answers one Response; instructions come first as a system message', async () => {
    const response = await client.responses.create({ model: MODEL, input: 'hi', instructions: 'Be brief.', metadata: { app: 'test' }, max_output_tokens: 64, temperature: 0.5 });
    expect(response).toMatchObject({ object: 'response', status: 'completed', model: MODEL, instructions: 'Be brief.', metadata: { app: 'test' }, error: null, incomplete_details: null });
    expect(response.id).toMatch(/^resp_/);
    expect(response.output_text).toBe(HELLO);
    expect(response.output).toHaveLength(1);
    expect(response.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: HELLO }] });
    expect(response.usage).toMatchObject({ output_tokens: expect.any(Number), total_tokens: expect.any(Number) });
    const sent = lastUpstreamBody().messages as Array<Record<string, unknown>>;
    expect(sent).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('create() with messages (developer, input_text parts, an earlier assistant turn)', async () => {
    const response = await client.responses.create({
      model: MODEL,
      input: [
        { role: 'developer', content: 'Answer in English.' },
        { role: 'user', content: [{ type: 'input_text', text: 'Hello?' }] },
        { role: 'assistant', content: 'Hi.' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Again' }] },
      ],
    });
    expect(response.output_text).toBe(HELLO);
    const sent = lastUpstreamBody().messages as Array<Record<string, unknown>>;
    expect(sent.map((m) => [m.role, m.content])).toEqual([
      ['system', 'Answer in English.'],
      ['user', 'Hello?'],
      ['assistant', 'Hi.'],
      ['user', 'Again'],
    ]);
  });

  it('stream(): the events in OpenAI order with sequence numbers from 0, reasoning as a summary, then the final response', async () => {
    const stream = client.responses.stream({ model: MODEL, input: 'think first', reasoning: { effort: 'low' } });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.reasoning_summary_part.added']);
    expect(types.at(-1)).toBe('response.completed');
    const reasoning = events.filter((e) => e.type === 'response.reasoning_summary_text.delta').map((e) => e.delta);
    expect(reasoning.join('')).toBe('Let me think about it.');
    const text = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta);
    expect(text.join('')).toBe(HELLO);
    // A message item: added, its part, the deltas, then its dones in order.
    const msg = types.indexOf('response.output_item.added', 3);
    expect(types.slice(msg, msg + 2)).toEqual(['response.output_item.added', 'response.content_part.added']);
    expect(types.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    expect(final.status).toBe('completed');
    expect(final.output.map((o) => o.type)).toEqual(['reasoning', 'message']);
    expect(final.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: 'Let me think about it.' }] });
    expect(final.output_text).toBe(HELLO);
    if (upstream === 'ollama') expect(lastUpstreamBody().think).toBe('low');
    else expect(lastUpstreamBody().reasoning_effort).toBe('low');
  });

  it('a function tool: the call (streamed and not), then function_call_output answers it', async () => {
    const first = await client.responses.create({ model: MODEL, input: 'weather in Paris?', tools: [weather] });
    expect(first.status).toBe('completed');
    const call = first.output.find((o) => o.type === 'function_call')!;
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
    expect(JSON.parse(call.arguments)).toEqual({ city: 'Paris' });
    expect(call.id).toMatch(/^fc_/);
    expect((lastUpstreamBody().tools as unknown[])[0]).toMatchObject({ type: 'function', function: { name: 'get_weather', parameters: weather.parameters } });

    const stream = client.responses.stream({ model: MODEL, input: 'weather in Paris?', tools: [weather], tool_choice: { type: 'function', name: 'get_weather' } });
    let args = '';
    for await (const event of stream) if (event.type === 'response.function_call_arguments.delta') args += event.delta;
    expect(JSON.parse(args)).toEqual({ city: 'Paris' });
    const streamed = await stream.finalResponse();
    // The call id is the upstream's (the OpenAI-shaped fake numbers them; Jarvis names Ollama's, which have none).
    expect(streamed.output.find((o) => o.type === 'function_call')).toMatchObject({ name: 'get_weather', call_id: expect.stringMatching(/^call_/) });

    const answer = await client.responses.create({
      model: MODEL,
      tools: [weather],
      input: [{ role: 'user', content: 'weather in Paris?' }, call, { type: 'function_call_output', call_id: call.call_id, output: 'sunny, 21 C' }],
    });
    expect(answer.output_text).toBe('The tool said: sunny, 21 C');
    const sent = lastUpstreamBody().messages as Array<Record<string, unknown>>;
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    if (upstream === 'openai') expect(sent[2]).toMatchObject({ tool_call_id: call.call_id, content: 'sunny, 21 C' });
  });

  it('text.format json_schema is passed on as the structured-output format', async () => {
    const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'number' } }, required: ['name', 'age'], additionalProperties: false };
    const response = await client.responses.create({ model: MODEL, input: 'who?', text: { format: { type: 'json_schema', name: 'Person', schema, strict: true } } });
    expect(JSON.parse(response.output_text)).toEqual({ name: 'Ada', age: 36 });
    expect(response.text?.format).toMatchObject({ type: 'json_schema', name: 'Person' });
    if (upstream === 'ollama') expect(lastUpstreamBody().format).toEqual(schema);
    else expect(lastUpstreamBody().response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'Person', schema } });
  });

  it('what Jarvis cannot serve is a 400 in words', async () => {
    const hosted = await client.responses.create({ model: MODEL, input: 'x', tools: [{ type: 'web_search' }] }).catch((e: unknown) => e);
    expect(hosted).toBeInstanceOf(BadRequestError);
    expect((hosted as BadRequestError).message).toMatch(/"web_search" tools are OpenAI-hosted/);
    expect((hosted as BadRequestError).param).toBe('tools[0].type');
    const conversation = await client.responses.create({ model: MODEL, input: 'x', conversation: 'conv_1' }).catch((e: unknown) => e);
    expect((conversation as BadRequestError).param).toBe('conversation');
    const item = await client.responses.create({ model: MODEL, input: [{ type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'q' } }] as OpenAI.Responses.ResponseInput }).catch((e: unknown) => e);
    expect((item as BadRequestError).message).toMatch(/input\[0\]: input items of type "web_search_call" are not supported/);
  });

  it('an upstream 4xx before any content is the same HTTP status with OpenAI\'s error body, streamed or not', async () => {
    const saved = j.fake!.plan;
    j.fake!.plan = () => ({ tokens: [], tokenMs: 1, fault: 'http_error', httpStatus: 400, errorMessage: `${MODEL} does not support tools` });
    try {
      const err = await client.responses.create({ model: MODEL, input: 'x' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BadRequestError);
      expect((err as BadRequestError).code).toBe('upstream_rejected');
      const streamed = await (async () => {
        for await (const _ of client.responses.stream({ model: MODEL, input: 'x' })) void _;
      })().catch((e: unknown) => e);
      expect(streamed).toBeInstanceOf(BadRequestError);
    } finally {
      j.fake!.plan = saved;
    }
  });

  it('an upstream failure after content is an error event, then response.failed', async () => {
    const saved = j.fake!.plan;
    j.fake!.plan = () => ({ tokens: ['a ', 'b ', 'c ', 'd '], tokenMs: 2, fault: 'fail_mid', faultAfter: 2 });
    try {
      const seen: string[] = [];
      const err = await (async () => {
        for await (const event of client.responses.stream({ model: MODEL, input: 'x' })) seen.push(event.type);
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(APIError);
      expect((err as APIError).message).toMatch(/model server|upstream|connection/i);
      expect(seen).toContain('response.output_text.delta');
      // The raw stream: `error`, then `response.failed` with the error in the response.
      const res = await fetch(`${j.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, input: 'x', stream: true }) });
      const types = [...(await res.text()).matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
      expect(types.slice(-2)).toEqual(['error', 'response.failed']);
    } finally {
      j.fake!.plan = saved;
    }
  });
});
