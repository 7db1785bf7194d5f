import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPlan } from '../../helpers/scenarios/agentPlan.js';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';

// Anthropic's own SDK (messages.create / messages.stream) against Jarvis in front of a
// fake Ollama, a fake OpenAI-compatible server and the demo backend (docs/anthropic.md).

const HELLO = 'Hello from the fake.';
const weather: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe.each(['ollama', 'openai'] as const)('the Anthropic SDK through Jarvis in front of %s', (upstream) => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis(upstream === 'openai' ? { JARVIS_BACKEND: 'openai' } : {});
    j.fake!.plan = agentPlan;
  });
  afterAll(async () => {
    await j?.close();
  });
  const client = () => new Anthropic({ baseURL: j.url, apiKey: 'sk-ant-test', maxRetries: 0 });
  const lastUpstreamBody = () => j.fake!.requests.at(-1)!.body as Record<string, unknown>;
  const MODEL = 'fake-llama:latest';

  it('messages.create: a system prompt (text blocks) and a multi-turn conversation become one Message', async () => {
    const message = await client().messages.create({
      model: MODEL,
      max_tokens: 100,
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: [{ type: 'text', text: 'Hello.' }] },
        { role: 'user', content: [{ type: 'text', text: 'again' }] },
      ],
      // Older SDKs' sampling fields (the current types dropped them; clients still send them).
      ...({ temperature: 0.2, top_k: 20 } as object),
      stop_sequences: ['END'],
    });
    expect(message).toMatchObject({ type: 'message', role: 'assistant', model: MODEL, stop_reason: 'end_turn', stop_sequence: null, content: [{ type: 'text', text: HELLO }] });
    expect(message.id).toMatch(/^msg_/);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    const sent = lastUpstreamBody();
    const messages = sent.messages as Array<{ role: string; content: unknown }>;
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(messages[0]!.content).toBe('Be brief.');
    // The stop sequence and sampling reach the upstream in its own words.
    if (upstream === 'ollama') expect(sent.options).toMatchObject({ stop: ['END'], temperature: 0.2, top_k: 20 });
    else expect(sent).toMatchObject({ stop: ['END'], temperature: 0.2 });
  });

  it('messages.stream: text deltas, then finalMessage', async () => {
    const stream = client().messages.stream({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    const deltas: string[] = [];
    stream.on('text', (text) => deltas.push(text));
    const final = await stream.finalMessage();
    expect(deltas.join('')).toBe(HELLO);
    expect(deltas.length).toBeGreaterThan(1);
    expect(final).toMatchObject({ stop_reason: 'end_turn', content: [{ type: 'text', text: HELLO }] });
  });

  it('thinking: thinking_delta blocks before the text, streamed and not', async () => {
    const params: Anthropic.MessageCreateParamsNonStreaming = { model: MODEL, max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: 'think first' }] };
    const stream = client().messages.stream(params);
    let thinking = '';
    stream.on('thinking', (delta) => (thinking += delta));
    const final = await stream.finalMessage();
    expect(thinking).toBe('Let me think about it.');
    expect(final.content).toEqual([
      { type: 'thinking', thinking: 'Let me think about it.', signature: '' },
      { type: 'text', text: HELLO },
    ]);
    if (upstream === 'ollama') expect(lastUpstreamBody().think).toBe(true);
    else expect(lastUpstreamBody().reasoning_effort).toBe('medium');
    const message = await client().messages.create(params);
    expect(message.content.map((b) => b.type)).toEqual(['thinking', 'text']);
  });

  it('tools: tool_use (streamed and not) → tool_result → the answer from it', async () => {
    const first = await client().messages.create({ model: MODEL, max_tokens: 100, tools: [weather], tool_choice: { type: 'auto' }, messages: [{ role: 'user', content: 'weather in Paris?' }] });
    expect(first.stop_reason).toBe('tool_use');
    const call = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    expect(call).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });
    const sentTools = lastUpstreamBody().tools as Array<{ function: { name: string; parameters: unknown } }>;
    expect(sentTools[0]!.function).toMatchObject({ name: 'get_weather', parameters: weather.input_schema });

    const streamed = await client().messages.stream({ model: MODEL, max_tokens: 100, tools: [weather], tool_choice: { type: 'tool', name: 'get_weather' }, messages: [{ role: 'user', content: 'weather?' }] }).finalMessage();
    expect(streamed.stop_reason).toBe('tool_use');
    expect(streamed.content.find((b) => b.type === 'tool_use')).toMatchObject({ name: 'get_weather', input: { city: 'Paris' } });

    const answer = await client().messages.create({
      model: MODEL,
      max_tokens: 100,
      tools: [weather],
      messages: [
        { role: 'user', content: 'weather in Paris?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: [{ type: 'text', text: 'sunny, 21°C' }] }] },
      ],
    });
    expect(answer.content).toEqual([{ type: 'text', text: 'The tool said: sunny, 21°C' }]);
    const sent = lastUpstreamBody().messages as Array<Record<string, unknown>>;
    expect(sent.at(-2)).toMatchObject({ role: 'assistant' });
    expect(sent.at(-1)).toMatchObject({ role: 'tool', content: 'sunny, 21°C' });
  });

  it('the wire: message_start, ping, thinking (with its signature_delta), text, tool_use blocks each opened and closed, message_delta, message_stop', async () => {
    j.fake!.plan = () => ({ thinking: ['hm'], tokens: ['Hi'], toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }], tokenMs: 1 });
    try {
      const res = await fetch(`${j.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ model: MODEL, max_tokens: 50, stream: true, tools: [weather], messages: [{ role: 'user', content: 'x' }] }),
      });
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const events = (await res.text()).split('\n\n').filter(Boolean).map((e) => JSON.parse(e.split('\ndata: ')[1]!) as { type: string; delta?: { type: string; partial_json?: string }; index?: number });
      expect(events.map((e) => (e.delta?.type ? `${e.type}:${e.delta.type}` : e.type))).toEqual([
        'message_start',
        'ping',
        'content_block_start',
        'content_block_delta:thinking_delta',
        'content_block_delta:signature_delta',
        'content_block_stop',
        'content_block_start',
        'content_block_delta:text_delta',
        'content_block_stop',
        'content_block_start',
        'content_block_delta:input_json_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ]);
      expect(events.filter((e) => e.type === 'content_block_start').map((e) => e.index)).toEqual([0, 1, 2]);
      expect(JSON.parse(events[10]!.delta!.partial_json!)).toEqual({ city: 'Oslo' });
    } finally {
      j.fake!.plan = agentPlan;
    }
  });

  it('an upstream failure after the first token ends the stream with an error event the SDK raises', async () => {
    j.fake!.plan = () => ({ tokens: ['a ', 'b ', 'c '], tokenMs: 2, fault: 'fail_mid', faultAfter: 2 });
    try {
      const stream = client().messages.stream({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'x' }] });
      const err = await stream.finalMessage().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(APIError);
      expect((err as APIError).error).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    } finally {
      j.fake!.plan = agentPlan;
    }
  });

  it('images: a user image block, and an image inside a tool_result, reach the upstream (the latter in a user turn after the tool message)', async () => {
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
    const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } } as const;
    await client().messages.create({
      model: MODEL,
      max_tokens: 50,
      tools: [weather],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'what is this?' }, image] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'a map' }, image] }] },
      ],
    });
    const sent = lastUpstreamBody().messages as Array<{ role: string; content: unknown; images?: string[] }>;
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'user']);
    const carries = (m: { content: unknown; images?: string[] }) => (upstream === 'ollama' ? m.images?.[0] === png : JSON.stringify(m.content).includes(png));
    expect(carries(sent[0]!)).toBe(true);
    expect(carries(sent[3]!)).toBe(true);
    expect(sent[2]!.content).toBe('a map\n[image: in the next message]');
  });

  it('a server tool (web_search) is a clear 400 the SDK raises as BadRequestError', async () => {
    const err = await client()
      .messages.create({ model: MODEL, max_tokens: 10, tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as APIError).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('server tools') } });
  });
});

describe('the Anthropic SDK on the demo backend', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'demo' });
  });
  afterAll(async () => {
    await j?.close();
  });
  const client = () => new Anthropic({ baseURL: j.url, apiKey: 'sk-ant-test', maxRetries: 0 });

  it('streams the demo reply; max_tokens ends it as stop_reason "max_tokens"', async () => {
    const full = await client().messages.stream({ model: 'jarvis-demo', max_tokens: 4096, messages: [{ role: 'user', content: 'hello' }] }).finalMessage();
    expect(full.stop_reason).toBe('end_turn');
    expect(full.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('demo backend') });
    const cut = await client().messages.create({ model: 'jarvis-demo', max_tokens: 3, messages: [{ role: 'user', content: 'hello' }] });
    expect(cut.stop_reason).toBe('max_tokens');
    expect(cut.usage.output_tokens).toBe(3);
  });

  it('a missing max_tokens, and a model the backend lacks, are errors in Anthropic\'s shape', async () => {
    const res = await fetch(`${j.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'jarvis-demo', messages: [] }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
    const err = await client()
      .messages.create({ model: 'nope', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], stream: true })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect((err as APIError).error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });
});
