import { afterEach, describe, expect, it } from 'vitest';
import type { FakePlan } from '../helpers/fakes/fakeUpstream.js';
import { chat, postJson } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';
import { postChat, sseData } from '../helpers/openaiWire.js';

// What real upstreams send, and what each client format makes of it: every
// in-stream error shape, 4xx answers, finish reasons, content on Ollama's last
// line, usage variants, and reasoning as progress.

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});

const MODEL = 'fake-llama:latest';
const user = (content: string) => ({ model: MODEL, messages: [{ role: 'user', content }] });

async function start(upstream: 'ollama' | 'openai', plan: FakePlan, env: Record<string, string> = {}): Promise<TestJarvis> {
  j = await startTestJarvis({ ...(upstream === 'openai' ? { JARVIS_BACKEND: 'openai' } : {}), ...env });
  j.fake!.plan = () => plan;
  return j;
}

describe('in-stream errors, in every shape servers send them', () => {
  const forms = [
    // OpenAI's `{"error":{…}}`, a bare `{"error":"…"}` and Ollama's `{"error":"…"}` are in upstreamFaults/openaiBackend tests.
    { upstream: 'openai', form: 'vllm_object', message: /upstream: an error was encountered/ },
    { upstream: 'openai', form: 'llamacpp_line', message: /upstream: an error was encountered/ },
  ] as const;

  it.each(forms)('$upstream $form → an error event (NDJSON) and an error chunk (SSE), after the tokens before it', async ({ upstream, form, message }) => {
    const t = await start(upstream, { tokens: ['a ', 'b ', 'c '], tokenMs: 2, fault: 'error_line', faultAfter: 2, ...(form ? { errorForm: form } : {}) });
    const nd = chat(t.url, { session: `err-${upstream}-${form}`, prompt: 'x', model: MODEL });
    await nd.finished;
    expect(nd.text).toBe('a b ');
    expect(nd.terminal).toMatchObject({ type: 'error', message: expect.stringMatching(message) });

    const sse = await postChat(t.url, { ...user('x'), stream: true }, { 'content-type': 'application/json' });
    expect(sse.status).toBe(200);
    const chunks = (await sseData(sse)) as Array<{ error?: { message: string }; choices?: Array<{ finish_reason: string | null }> }>;
    expect(chunks.at(-2)?.error?.message).toMatch(message);
    expect(chunks.some((c) => c.choices?.[0]?.finish_reason === 'stop')).toBe(false);
    expect(chunks.at(-1)).toBe('[DONE]');
  });

  it('a 4xx sent inside the stream (old vLLM) keeps its 4xx status in the error', async () => {
    const t = await start('openai', { tokens: ['a '], tokenMs: 2, fault: 'error_line', faultAfter: 0, errorForm: 'vllm_object', httpStatus: 400, errorMessage: "This model's maximum context length is 4096 tokens" });
    const res = await postChat(t.url, { ...user('x'), stream: false }, { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string; code: string } }).error).toMatchObject({ code: 'upstream_rejected', message: expect.stringMatching(/maximum context length/) });
  });
});

describe('upstream 4xx answers keep their status', () => {
  it.each(['ollama', 'openai'] as const)('%s: before streaming, the HTTP status; NDJSON, an error event with it', async (upstream) => {
    const t = await start(upstream, { tokens: [], tokenMs: 1, fault: 'http_error', httpStatus: 400, errorMessage: 'registry.ollama.ai/library/gemma does not support tools' });
    for (const stream of [true, false]) {
      const res = await postChat(t.url, { ...user('x'), stream }, { 'content-type': 'application/json' });
      expect(res.status, `stream: ${stream}`).toBe(400);
      const err = ((await res.json()) as { error: { code: string; message: string; type: string } }).error;
      expect(err).toMatchObject({ code: 'upstream_rejected', type: 'invalid_request_error', message: expect.stringMatching(/does not support tools/) });
    }
    const nd = chat(t.url, { prompt: 'x', model: MODEL });
    await nd.finished;
    expect(nd.terminal).toMatchObject({ type: 'error', code: 'upstream_rejected', status: 400 });
    // 5xx stays a gateway error.
    t.fake!.plan = () => ({ tokens: [], tokenMs: 1, fault: 'http_500' });
    expect((await postChat(t.url, { ...user('x'), stream: true }, { 'content-type': 'application/json' })).status).toBe(502);
  });
});

describe('nothing the upstream says is lost', () => {
  it('Ollama: content on the final done:true line is kept', async () => {
    const t = await start('ollama', { tokens: ['Hello '], doneContent: 'world.', tokenMs: 2 });
    const res = await postJson(`${t.url}/v1/chat/completions`, { ...user('x'), stream: false });
    expect((res.body as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('Hello world.');
  });

  it.each([
    ['ollama', 'length', 'length'],
    ['openai', 'length', 'length'],
    ['openai', 'content_filter', 'content_filter'],
    ['openai', 'tool_calls', 'tool_calls'],
  ] as const)('%s finish reason %s → %s in SSE, JSON and NDJSON', async (upstream, sent, expected) => {
    const t = await start(upstream, { tokens: ['a ', 'b'], tokenMs: 2, finishReason: sent, ...(sent === 'tool_calls' ? { toolCalls: [{ name: 'f', arguments: { x: 1 } }] } : {}) });
    const sse = (await sseData(await postChat(t.url, { ...user('x'), stream: true }))) as Array<{ choices?: Array<{ finish_reason: string | null }> }>;
    expect(sse.find((c) => c.choices?.[0]?.finish_reason)?.choices?.[0]?.finish_reason).toBe(expected);
    const json = await postJson(`${t.url}/v1/chat/completions`, user('x'));
    expect((json.body as { choices: Array<{ finish_reason: string }> }).choices[0]!.finish_reason).toBe(expected);
    const nd = chat(t.url, { prompt: 'x', model: MODEL });
    await nd.finished;
    expect(nd.terminal).toMatchObject({ type: 'done', reason: expected });
  });

  it('tool calls as NDJSON events, assembled from OpenAI fragments', async () => {
    const t = await start('openai', { tokens: ['Checking. '], toolCalls: [{ name: 'a', arguments: { q: 'x' } }, { name: 'b', arguments: { n: 2 } }], tokenMs: 2 });
    const nd = chat(t.url, { prompt: 'x', model: MODEL });
    await nd.finished;
    expect(nd.events.map((e) => e.type)).toEqual(['status', 'token', 'tool_call', 'tool_call', 'done']);
    expect(nd.events.filter((e) => e.type === 'tool_call')).toMatchObject([
      { index: 0, id: 'call_fake_0', name: 'a', arguments: '{"q":"x"}' },
      { index: 1, id: 'call_fake_1', name: 'b', arguments: '{"n":2}' },
    ]);
  });

  it.each(['in_finish', 'none'] as const)('OpenAI usage reported %s', async (usageForm) => {
    const t = await start('openai', { tokens: ['a ', 'b ', 'c'], tokenMs: 2, usageForm });
    const res = await postJson(`${t.url}/v1/chat/completions`, user('x'));
    const usage = (res.body as { usage: Record<string, number> }).usage;
    if (usageForm === 'in_finish') expect(usage).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    else expect(usage).toEqual({ prompt_tokens: 0, completion_tokens: 3, total_tokens: 3 });
  });

  it.each(['reasoning_content', 'reasoning'] as const)('OpenAI delta.%s → reasoning events', async (reasoningField) => {
    const t = await start('openai', { thinking: ['Hmm, ', 'ok.'], reasoningField, tokens: ['Yes.'], tokenMs: 2 });
    const nd = chat(t.url, { prompt: 'x', model: MODEL });
    await nd.finished;
    expect(nd.events.filter((e) => e.type === 'reasoning')).toMatchObject([
      { text: 'Hmm, ', seq: 0 },
      { text: 'ok.', seq: 1 },
    ]);
    expect(nd.events.find((e) => e.type === 'token')).toMatchObject({ text: 'Yes.', seq: 0 });
    const json = await postJson(`${t.url}/v1/chat/completions`, user('x'));
    expect((json.body as { choices: Array<{ message: Record<string, unknown> }> }).choices[0]!.message).toMatchObject({ content: 'Yes.', reasoning_content: 'Hmm, ok.' });
  });
});

describe('reasoning is progress', () => {
  it.each(['ollama', 'openai'] as const)('%s: a model that thinks longer than the first-token timeout is not cut off', async (upstream) => {
    const t = await start(upstream, { thinking: Array.from({ length: 30 }, (_, i) => `t${i} `), tokens: ['done.'], tokenMs: 40 }, { JARVIS_FIRST_TOKEN_TIMEOUT_MS: '300' });
    const nd = chat(t.url, { session: `think-${upstream}`, prompt: 'x', model: MODEL });
    await nd.finished;
    expect(nd.terminal).toMatchObject({ type: 'done', reason: 'stop' });
    expect(nd.text).toBe('done.');
    const end = await waitForLog(t.logFile, 'stream_end', { session: `think-${upstream}` });
    expect(Number(end.fields.ttft_ms)).toBeLessThan(300);
    // Silence is still a timeout.
    t.fake!.plan = () => ({ tokens: ['late'], tokenMs: 10, firstTokenMs: 2000 });
    const silent = chat(t.url, { prompt: 'x', model: MODEL });
    await silent.finished;
    expect(silent.terminal).toMatchObject({ type: 'error', code: 'timeout' });
  });
});
