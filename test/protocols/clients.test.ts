import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { ChatOpenAI } from '@langchain/openai';
import { generateObject, generateText, stepCountIs, streamText, tool } from 'ai';
import OpenAI, { BadRequestError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agentPlan } from '../helpers/scenarios/agentPlan.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';

// The real client packages users point at Jarvis, each in front of a fake Ollama
// and a fake OpenAI-compatible server. docs/api.md lists the same clients.

const MODEL = 'fake-llama:latest';
const HELLO = 'Hello from the fake.';
const weatherParams = z.object({ city: z.string() });

describe.each(['ollama', 'openai'] as const)('clients through Jarvis in front of %s', (upstream) => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis(upstream === 'openai' ? { JARVIS_BACKEND: 'openai' } : {});
    j.fake!.plan = agentPlan;
  });
  afterAll(async () => {
    await j?.close();
  });
  const lastUpstreamBody = () => j.fake!.requests.at(-1)!.body as Record<string, unknown>;

  describe('openai', () => {
    const client = () => new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'sk-test', maxRetries: 2 });

    it('create() with no stream answers one chat.completion', async () => {
      const completion = await client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
      expect(completion.choices[0]).toMatchObject({ message: { role: 'assistant', content: HELLO }, finish_reason: 'stop' });
    });

    it('streams reasoning as delta.reasoning_content, then the answer', async () => {
      const stream = await client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'think first' }], stream: true, reasoning_effort: 'low' });
      let reasoning = '';
      let text = '';
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta as { content?: string | null; reasoning_content?: string } | undefined;
        reasoning += delta?.reasoning_content ?? '';
        text += delta?.content ?? '';
      }
      expect(reasoning).toBe('Let me think about it.');
      expect(text).toBe(HELLO);
      // Asked for, so passed on: Ollama's `think`, OpenAI's `reasoning_effort`.
      if (upstream === 'ollama') expect(lastUpstreamBody().think).toBe('low');
      else expect(lastUpstreamBody().reasoning_effort).toBe('low');
    });

    it('tools round trip: a tool call (streamed and not), then the answer from its result', async () => {
      const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
        { type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
      ];
      const first = await client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'weather in Paris?' }], tools, stream: false });
      expect(first.choices[0]!.finish_reason).toBe('tool_calls');
      const call = first.choices[0]!.message.tool_calls![0]! as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
      expect(call.function.name).toBe('get_weather');
      expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
      expect(first.choices[0]!.message.content).toBeNull();
      expect(lastUpstreamBody().tools).toEqual(tools);

      const stream = await client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'weather in Paris?' }], tools, tool_choice: 'auto', stream: true });
      const deltas: OpenAI.Chat.Completions.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
      let finish: string | null = null;
      for await (const chunk of stream) {
        deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      expect(finish).toBe('tool_calls');
      expect(deltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather' } });
      expect(JSON.parse(deltas.map((d) => d.function?.arguments ?? '').join(''))).toEqual({ city: 'Paris' });

      const answer = await client().chat.completions.create({
        model: MODEL,
        tools,
        messages: [
          { role: 'developer', content: 'Be brief.' },
          { role: 'user', content: 'weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: 'sunny, 21 C' },
        ],
      });
      expect(answer.choices[0]).toMatchObject({ message: { content: 'The tool said: sunny, 21 C' }, finish_reason: 'stop' });
      const sent = lastUpstreamBody().messages as Array<Record<string, unknown>>;
      expect(sent[0]).toMatchObject({ role: 'system', content: 'Be brief.' });
      if (upstream === 'ollama') {
        expect(sent[2]).toMatchObject({ role: 'assistant', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] });
        expect(sent[3]).toMatchObject({ role: 'tool', content: 'sunny, 21 C', tool_name: 'get_weather' });
      } else {
        expect(sent[2]).toMatchObject({ role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: 'get_weather' } }] });
        expect(sent[3]).toMatchObject({ role: 'tool', tool_call_id: call.id, content: 'sunny, 21 C' });
      }
    });

    it('aborting while the model thinks closes the upstream request', async () => {
      const before = j.fake!.requests.length;
      const saved = j.fake!.plan;
      j.fake!.plan = () => ({ thinking: Array.from({ length: 500 }, (_, i) => `step ${i}. `), tokens: ['never'], tokenMs: 10 });
      try {
        const controller = new AbortController();
        const stream = await client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'ponder' }], stream: true }, { signal: controller.signal });
        let seen = 0;
        for await (const chunk of stream) {
          if ((chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content && ++seen === 3) controller.abort();
        }
        expect(seen).toBe(3);
        const up = await j.fake!.waitForRequest((r) => r.id >= before);
        await up.closed;
        expect(up.aborted).toBe(true);
      } finally {
        j.fake!.plan = saved;
      }
    });

    it('an upstream 4xx is the same 4xx with its message, not retried; n=2 is refused', async () => {
      const saved = j.fake!.plan;
      j.fake!.plan = () => ({ tokens: [], tokenMs: 1, fault: 'http_error', httpStatus: 400, errorMessage: `${MODEL} does not support tools` });
      try {
        const before = j.fake!.requests.length;
        const err = await client()
          .chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'f' } }] })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(BadRequestError);
        expect((err as BadRequestError).message).toMatch(/does not support tools/);
        expect((err as BadRequestError).code).toBe('upstream_rejected');
        // maxRetries is 2: a 502 would have been sent three times.
        expect(j.fake!.requests.length - before).toBe(1);
      } finally {
        j.fake!.plan = saved;
      }
      // Ollama has no `n`; a vLLM-style upstream serves it (test/protocols/logprobs/choices.test.ts).
      if (upstream === 'ollama') {
        const n2 = await client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], n: 2 }).catch((e: unknown) => e);
        expect(n2).toBeInstanceOf(BadRequestError);
        expect((n2 as BadRequestError).param).toBe('n');
      }
    });
  });

  describe('ai (AI SDK)', () => {
    const reasoningSeen: Array<string | undefined> = [];
    const compatible = () => createOpenAICompatible({ name: 'jarvis', baseURL: `${j.url}/v1`, apiKey: 'sk-test' }).chatModel(MODEL);
    const openaiChat = () => createOpenAI({ baseURL: `${j.url}/v1`, apiKey: 'sk-test' }).chat(MODEL);

    it('generateText (openai-compatible and openai providers)', async () => {
      for (const model of [compatible(), openaiChat()]) {
        const result = await generateText({ model, prompt: 'hi', maxRetries: 0 });
        expect(result.text).toBe(HELLO);
        expect(result.finishReason).toBe('stop');
        expect(result.usage.outputTokens).toBe(4);
      }
    });

    it('streamText, with the reasoning (both providers)', async () => {
      for (const model of [compatible(), openaiChat()]) {
        const result = streamText({ model, prompt: 'think, then answer', maxRetries: 0 });
        let text = '';
        for await (const part of result.textStream) text += part;
        expect(text).toBe(HELLO);
        reasoningSeen.push(await result.reasoningText);
      }
      // @ai-sdk/openai reads no reasoning from chat deltas (OpenAI's own API sends none); its text is whole.
      expect(reasoningSeen).toEqual(['Let me think about it.', undefined]);
    });

    it('streamText aborted by its abortSignal closes the upstream request', async () => {
      const before = j.fake!.requests.length;
      const saved = j.fake!.plan;
      j.fake!.plan = () => ({ tokens: Array.from({ length: 500 }, (_, i) => `t${i} `), tokenMs: 10 });
      try {
        const controller = new AbortController();
        const result = streamText({ model: compatible(), prompt: 'long', abortSignal: controller.signal, maxRetries: 0 });
        let seen = 0;
        await (async () => {
          for await (const _ of result.textStream) if (++seen === 3) controller.abort();
        })().catch(() => {});
        const up = await j.fake!.waitForRequest((r) => r.id >= before);
        await up.closed;
        expect(up.aborted).toBe(true);
      } finally {
        j.fake!.plan = saved;
      }
    });

    it('generateObject with a schema', async () => {
      const schema = z.object({ name: z.string(), age: z.number() });
      for (const model of [compatible(), openaiChat()]) {
        const { object } = await generateObject({ model, schema, prompt: 'who?', maxRetries: 0 });
        expect(object).toEqual({ name: 'Ada', age: 36 });
      }
      // @ai-sdk/openai asks for a json_schema: Ollama gets the schema itself as `format`.
      const sent = lastUpstreamBody();
      if (upstream === 'ollama') expect(sent.format).toMatchObject({ type: 'object', properties: { name: { type: 'string' }, age: { type: 'number' } } });
      else expect(sent.response_format).toMatchObject({ type: 'json_schema', json_schema: { schema: { type: 'object' } } });
    });

    it.each(['openai-compatible', 'openai'])('tools with a two-step loop (%s provider)', async (provider) => {
      const calls: unknown[] = [];
      const result = await generateText({
        model: provider === 'openai' ? openaiChat() : compatible(),
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
        stopWhen: stepCountIs(2),
        maxRetries: 0,
      });
      expect(calls).toEqual([{ city: 'Paris' }]);
      expect(result.steps).toHaveLength(2);
      expect(result.steps[0]!.finishReason).toBe('tool-calls');
      expect(result.text).toBe('The tool said: rainy, 12 C');
    });
  });

  describe('@langchain/openai', () => {
    const model = () => new ChatOpenAI({ model: MODEL, apiKey: 'sk-test', configuration: { baseURL: `${j.url}/v1` }, maxRetries: 0 });

    it('invoke and stream', async () => {
      const message = await model().invoke('hi');
      expect(message.content).toBe(HELLO);
      let text = '';
      for await (const chunk of await model().stream('hi')) text += String(chunk.content);
      expect(text).toBe(HELLO);
    });

    it('stream aborted by its signal closes the upstream request', async () => {
      const before = j.fake!.requests.length;
      const saved = j.fake!.plan;
      j.fake!.plan = () => ({ tokens: Array.from({ length: 500 }, (_, i) => `t${i} `), tokenMs: 10 });
      try {
        const controller = new AbortController();
        let seen = 0;
        await (async () => {
          for await (const _ of await model().stream('long', { signal: controller.signal })) if (++seen === 3) controller.abort();
        })().catch(() => {});
        expect(seen).toBeGreaterThanOrEqual(3);
        const up = await j.fake!.waitForRequest((r) => r.id >= before);
        await up.closed;
        expect(up.aborted).toBe(true);
      } finally {
        j.fake!.plan = saved;
      }
    });

    it('invoke: reasoning reaches the message (additional_kwargs.reasoning_content)', async () => {
      const message = await model().invoke('think first');
      expect(message.content).toBe(HELLO);
      expect(message.additional_kwargs.reasoning_content).toBe('Let me think about it.');
    });

    it('bindTools: the tool call comes back as tool_calls', async () => {
      const bound = model().bindTools([{ type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }]);
      const message = await bound.invoke('weather in Paris?');
      expect(message.tool_calls).toMatchObject([{ name: 'get_weather', args: { city: 'Paris' } }]);
      expect(message.response_metadata.finish_reason).toBe('tool_calls');
    });

    it('withStructuredOutput, by JSON schema (the default) and by function calling', async () => {
      const schema = z.object({ name: z.string(), age: z.number() });
      expect(await model().withStructuredOutput(schema, { name: 'Person' }).invoke('who?')).toEqual({ name: 'Ada', age: 36 });
      expect(await model().withStructuredOutput(schema, { name: 'Person', method: 'functionCalling' }).invoke('who?')).toEqual({ name: 'Ada', age: 36 });
      // A named tool_choice: Ollama has none, so Jarvis sends only that tool.
      const sent = lastUpstreamBody();
      if (upstream === 'ollama') expect((sent.tools as Array<{ function: { name: string } }>).map((t) => t.function.name)).toEqual(['Person']);
      else expect(sent.tool_choice).toMatchObject({ type: 'function', function: { name: 'Person' } });
    });
  });
});
