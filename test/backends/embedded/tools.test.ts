// Tools on the tiny random model: a forced call always comes back as a valid call
// of an offered function, the engine's function calling runs with the offered
// tools, and a conversation's calls and results reach the template
// (docs/embedded.md, "JSON output, tools and embeddings").
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { LlamaChat } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responseConstraint } from '../../../src/backends/embedded/grammar/llamaGrammar.js';
import { finish, grammarBudget, outputPlan } from '../../../src/backends/embedded/grammar/outputPlan.js';
import { chatHistoryWithTools, forcedCall, toolCallChunks, toolCallId, toolPlan } from '../../../src/backends/embedded/tools.js';
import { BackendError, type BackendMessage, type ToolSpec } from '../../../src/backends/types.js';
import { type TinyEngine, loadTinyEngine } from './grammar/grammarTinyEngine.js';

const WEATHER: ToolSpec = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { enum: ['c', 'f'] }, days: { type: 'integer', minimum: 1, maximum: 7 } }, required: ['city'] },
  },
};
const SEARCH: ToolSpec = {
  type: 'function',
  function: { name: 'search', parameters: { type: 'object', properties: { query: { type: 'string', maxLength: 50 }, tags: { type: 'array', items: { type: 'string' } } }, required: ['query', 'tags'] } },
};
const MAX_TOKENS = 160;

let engine: TinyEngine;
let chat: LlamaChat;

beforeAll(async () => {
  engine = await loadTinyEngine();
  const { LlamaChat } = await import('node-llama-cpp');
  chat = new LlamaChat({ contextSequence: engine.context.getSequence() });
}, 60_000);

afterAll(async () => {
  chat?.dispose();
  await engine?.dispose();
});

describe('tool plans', () => {
  it('offers nothing for none or no tools, the engine for auto, a grammar for required or a name', () => {
    expect(toolPlan(undefined, 'auto').mode).toBe('none');
    expect(toolPlan([WEATHER], 'none').mode).toBe('none');
    const auto = toolPlan([WEATHER, SEARCH], undefined);
    expect(auto.mode).toBe('engine');
    if (auto.mode === 'engine') expect((auto.functions.get_weather?.params as any).properties.city.maxLength).toBe(1024);
    expect(toolPlan([WEATHER], 'required').mode).toBe('forced');
    expect(toolPlan([WEATHER, SEARCH], { type: 'function', function: { name: 'search' } }).mode).toBe('forced');
    expect(() => toolPlan([WEATHER], { type: 'function', function: { name: 'nope' } })).toThrow(BackendError);
  });

  it('makes ids like OpenAI', () => {
    const ids = new Set(Array.from({ length: 100 }, () => toolCallId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^call_[A-Za-z0-9]{24}$/);
  });
});

describe('forced calls on the tiny random model', () => {
  const validators = new Map([WEATHER, SEARCH].map((t) => [t.function.name, new Ajv2020({ strict: false }).compile(t.function.parameters ?? {})]));

  for (const [label, choice] of [
    ['required, two tools', 'required'],
    ['named', { type: 'function', function: { name: 'search' } }],
  ] as const) {
    it(`${label}: 30 seeds each give a valid call of an offered function`, async () => {
      const plan = toolPlan([WEATHER, SEARCH], choice);
      if (plan.mode !== 'forced') throw new Error('expected a forced plan');
      const constraint = await responseConstraint(engine.llama, plan.format, MAX_TOKENS);
      const names = new Set<string>();
      for (let seed = 1; seed <= 30; seed++) {
        const result = await chat.generateResponse(
          [{ type: 'system', text: plan.instructions }, { type: 'user', text: 'Weather in Paris?' }, { type: 'model', response: [] }],
          { grammar: constraint?.grammar, maxTokens: MAX_TOKENS, temperature: 1, seed },
        );
        expect(result.metadata.stopReason, result.response).toBe('eogToken');
        const call = forcedCall(result.response);
        names.add(call.name);
        if (typeof choice === 'object') expect(call.name).toBe('search');
        const validate = validators.get(call.name);
        expect(validate?.(JSON.parse(call.arguments)), `${call.arguments} ${JSON.stringify(validate?.errors)}`).toBe(true);
        expect(call.id).toMatch(/^call_/);
      }
      if (choice === 'required') expect(names.size).toBe(2);
    }, 120_000);
  }
});

describe('the engine\'s function calling', () => {
  const conversation: BackendMessage[] = [
    { role: 'system', content: 'You help.' },
    { role: 'user', content: 'Weather in Paris?' },
    { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] },
    { role: 'tool', content: '{"temp":21}', toolCallId: 'call_1' },
  ];

  it('puts an assistant\'s calls and their results in one model response, continued by the model', () => {
    const history = chatHistoryWithTools(conversation);
    expect(history.map((h) => h.type)).toEqual(['system', 'user', 'model']);
    const model = history[2];
    expect(model?.type === 'model' && model.response[0]).toMatchObject({ type: 'functionCall', name: 'get_weather', params: { city: 'Paris' }, result: { temp: 21 } });
    const withAnswer = chatHistoryWithTools([...conversation, { role: 'assistant', content: 'It is 21.' }, { role: 'user', content: 'Thanks' }]);
    expect(withAnswer.map((h) => h.type)).toEqual(['system', 'user', 'model', 'user', 'model']);
    const orphan = chatHistoryWithTools([{ role: 'tool', content: '42', toolCallId: 'call_x', name: 'calc' }]);
    expect(orphan[0]).toEqual({ type: 'user', text: 'Result of calc: 42' });
  });

  it('renders the calls and results through the chat template', () => {
    const plan = toolPlan([WEATHER], 'auto');
    if (plan.mode !== 'engine') throw new Error('expected the engine plan');
    const state = chat.chatWrapper.generateContextState({ chatHistory: chatHistoryWithTools(conversation), availableFunctions: plan.functions });
    const text = state.contextText.toString();
    expect(text).toContain('function get_weather(');
    expect(text).toContain('get_weather({"city": "Paris"})');
    expect(text).toContain('{"temp": 21}');
  });

  it('generates with the tools offered, and any call it makes becomes a tool_call', async () => {
    const plan = toolPlan([WEATHER, SEARCH], 'auto');
    if (plan.mode !== 'engine') throw new Error('expected the engine plan');
    for (let seed = 1; seed <= 5; seed++) {
      const result = await chat.generateResponse(chatHistoryWithTools(conversation), { functions: plan.functions, maxParallelFunctionCalls: plan.maxParallel, maxTokens: 64, temperature: 1, seed });
      const chunks = toolCallChunks(result.functionCalls);
      expect(chunks.length === 0 || result.metadata.stopReason === 'functionCalls').toBe(true);
      for (const chunk of chunks) if (chunk.type === 'tool_call') expect(['get_weather', 'search']).toContain(chunk.call.name);
    }
  }, 60_000);
});

describe('the output plan of a request', () => {
  const messages: BackendMessage[] = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Weather?' }];

  it('forces a call under a grammar and reads it back as a tool_call', async () => {
    const plan = await outputPlan(engine.llama, { model: 'tiny', messages, tools: [WEATHER], toolChoice: 'required' }, grammarBudget(undefined, 2048));
    expect(plan.forced).toBe(true);
    expect(plan.grammarMaxTokens).toBeLessThanOrEqual(1024);
    const system = plan.history[0];
    expect(system?.type === 'system' && system.text).toMatch(/^Be brief\.\n\nYou must call one of these functions/);
    const result = await chat.generateResponse(plan.history, { grammar: plan.grammar, maxTokens: 1024, temperature: 1, seed: 7 });
    const { chunks, reason } = finish(plan, result);
    expect(reason).toBe('tool_calls');
    expect(chunks[0]).toMatchObject({ type: 'tool_call', call: { name: 'get_weather' } });
  }, 60_000);

  it('refuses response_format beside tools the model may or may not call', async () => {
    await expect(outputPlan(engine.llama, { model: 'tiny', messages, tools: [WEATHER], responseFormat: { type: 'json_object' } }, 200)).rejects.toThrow(/cannot follow response_format and offer tools/);
  });

  it('gives a grammar for response_format alone, and nothing for text', async () => {
    const json = await outputPlan(engine.llama, { model: 'tiny', messages, responseFormat: { type: 'json_object' } }, 200);
    expect(json.grammar).toBeDefined();
    expect(json.functions).toBeUndefined();
    const text = await outputPlan(engine.llama, { model: 'tiny', messages }, 200);
    expect(text.grammar).toBeUndefined();
    await expect(outputPlan(engine.llama, { model: 'tiny', messages, responseFormat: { type: 'json_schema', json_schema: { name: 'x', schema: { $ref: 'http://x' } } } }, 200)).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });
});
