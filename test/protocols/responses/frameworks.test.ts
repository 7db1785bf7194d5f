import { createOpenAI } from '@ai-sdk/openai';
import { ChatOpenAI } from '@langchain/openai';
import { Agent, OpenAIProvider, Runner, setDefaultOpenAIClient, setTracingDisabled, tool as agentTool } from '@openai/agents';
import { generateObject, generateText, Output, stepCountIs, streamText, tool } from 'ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agentPlan } from '../../helpers/scenarios/agentPlan.js';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';

// The frameworks whose default OpenAI path is the Responses API, through Jarvis in
// front of a fake Ollama and a fake OpenAI-compatible server: the AI SDK's
// `openai('model')`, the OpenAI Agents SDK, LangChain's `useResponsesApi`.

const MODEL = 'fake-llama:latest';
const HELLO = 'Hello from the fake.';
const weatherParams = z.object({ city: z.string() });

describe.each(['ollama', 'openai'] as const)('frameworks on /v1/responses through Jarvis in front of %s', (upstream) => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis(upstream === 'openai' ? { JARVIS_BACKEND: 'openai' } : {});
    j.fake!.plan = agentPlan;
  });
  afterAll(async () => {
    await j?.close();
  });
  const lastUpstreamBody = () => j.fake!.requests.at(-1)!.body as Record<string, unknown>;
  const provider = () => createOpenAI({ baseURL: `${j.url}/v1`, apiKey: 'sk-test' });

  describe('AI SDK default provider (openai(model) is the Responses API)', () => {
    it('generateText and streamText, with the reasoning', async () => {
      const result = await generateText({ model: provider()(MODEL), prompt: 'hi', maxRetries: 0 });
      expect(result.text).toBe(HELLO);
      expect(result.finishReason).toBe('stop');
      expect(result.usage.outputTokens).toBe(4);
      expect(result.response.id).toMatch(/^resp_/);

      const streamed = streamText({ model: provider()(MODEL), prompt: 'think, then answer', maxRetries: 0 });
      let text = '';
      for await (const part of streamed.textStream) text += part;
      expect(text).toBe(HELLO);
      expect(await streamed.reasoningText).toBe('Let me think about it.');
      expect(await streamed.finishReason).toBe('stop');
    });

    it('streamText with a tool and stopWhen: stepCountIs(3)', async () => {
      const calls: unknown[] = [];
      const result = streamText({
        model: provider()(MODEL),
        prompt: 'weather in Paris?',
        tools: {
          get_weather: tool({
            description: 'Weather in a city',
            inputSchema: weatherParams,
            execute: async (input) => {
              calls.push(input);
              return 'rainy, 12 C';
            },
          }),
        },
        stopWhen: stepCountIs(3),
        maxRetries: 0,
      });
      let text = '';
      for await (const part of result.textStream) text += part;
      const steps = await result.steps;
      expect(calls).toEqual([{ city: 'Paris' }]);
      expect(steps).toHaveLength(2);
      expect(steps[0]!.finishReason).toBe('tool-calls');
      expect(text).toBe('The tool said: rainy, 12 C');
      // The second step sent the call and its output as items: the upstream got the whole turn.
      const sent = lastUpstreamBody().messages as Array<Record<string, unknown>>;
      expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    });

    it('a step with text and a tool call, then the answer (store: false: the SDK sends whole items, not references)', async () => {
      const saved = j.fake!.plan;
      j.fake!.plan = (prompt, body) => {
        const plan = agentPlan(prompt, body);
        return plan.toolCalls ? { ...plan, tokens: ['Let me check. '] } : plan;
      };
      try {
        const result = await generateText({
          model: provider()(MODEL),
          prompt: 'weather in Paris?',
          tools: { get_weather: tool({ description: 'Weather in a city', inputSchema: weatherParams, execute: async () => 'windy' }) },
          stopWhen: stepCountIs(3),
          providerOptions: { openai: { store: false } },
          maxRetries: 0,
        });
        expect(result.steps.map((s) => s.text)).toEqual(['Let me check. ', 'The tool said: windy']);
        const sent = lastUpstreamBody().messages as Array<Record<string, unknown>>;
        expect(sent[1]).toMatchObject({ role: 'assistant', content: 'Let me check. ' });
        expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
      } finally {
        j.fake!.plan = saved;
      }
    });

    it('generateObject, and generateText with Output.object', async () => {
      const schema = z.object({ name: z.string(), age: z.number() });
      const { object } = await generateObject({ model: provider()(MODEL), schema, prompt: 'who?', maxRetries: 0 });
      expect(object).toEqual({ name: 'Ada', age: 36 });
      if (upstream === 'ollama') expect(lastUpstreamBody().format).toMatchObject({ type: 'object', properties: { name: { type: 'string' } } });
      else expect(lastUpstreamBody().response_format).toMatchObject({ type: 'json_schema', json_schema: { schema: { type: 'object' } } });
      const { output } = await generateText({ model: provider()(MODEL), output: Output.object({ schema }), prompt: 'who?', maxRetries: 0 });
      expect(output).toEqual({ name: 'Ada', age: 36 });
    });
  });

  it('an Agents SDK run with a function tool', async () => {
    // As its README sets it up; the default provider keeps the client it first saw, so this
    // file's second Jarvis is given to a Runner of its own.
    const openAIClient = new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
    setDefaultOpenAIClient(openAIClient);
    setTracingDisabled(true);
    const runner = new Runner({ modelProvider: new OpenAIProvider({ openAIClient }) });
    const calls: unknown[] = [];
    const getWeather = agentTool({
      name: 'get_weather',
      description: 'Weather in a city',
      parameters: weatherParams,
      execute: async (input) => {
        calls.push(input);
        return 'sunny, 21 C';
      },
    });
    const agent = new Agent({ name: 'Weather', instructions: 'Answer with the tool.', model: MODEL, tools: [getWeather] });
    const result = await runner.run(agent, 'weather in Paris?');
    expect(calls).toEqual([{ city: 'Paris' }]);
    expect(result.finalOutput).toBe('The tool said: sunny, 21 C');
    const sent = lastUpstreamBody().messages as Array<Record<string, unknown>>;
    expect(sent[0]).toMatchObject({ role: 'system', content: 'Answer with the tool.' });
    // Streamed: the same run over `stream: true`.
    const streamed = await runner.run(agent, 'weather in Paris?', { stream: true });
    let text = '';
    for await (const chunk of streamed.toTextStream()) text += chunk;
    await streamed.completed;
    expect(text).toBe('The tool said: sunny, 21 C');
    expect(calls).toHaveLength(2);
  });

  it('LangChain ChatOpenAI with useResponsesApi: invoke, stream, a tool call', async () => {
    const model = new ChatOpenAI({ model: MODEL, apiKey: 'sk-test', useResponsesApi: true, configuration: { baseURL: `${j.url}/v1` }, maxRetries: 0 });
    const message = await model.invoke('hi');
    expect(message.text).toBe(HELLO);
    let text = '';
    for await (const chunk of await model.stream('hi')) text += chunk.text;
    expect(text).toBe(HELLO);
    const withTool = model.bindTools([{ type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }]);
    const called = await withTool.invoke('weather in Paris?');
    expect(called.tool_calls?.[0]).toMatchObject({ name: 'get_weather', args: { city: 'Paris' } });
  });
});
