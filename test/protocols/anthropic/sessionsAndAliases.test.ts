import Anthropic, { APIError } from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { agentPlan } from '../../helpers/scenarios/agentPlan.js';
import type { FakePlan } from '../../helpers/fakes/fakeUpstream.js';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';
import { waitForLog } from '../../helpers/log.js';

// What an Anthropic client meets around the messages themselves (docs/anthropic.md): keys in
// x-api-key, the Anthropic-shaped model list, count_tokens, the session rules, and the
// JARVIS_MODEL_ALIASES map that lets Claude Code's `claude-…` names reach a local model.

const USER_KEY = 'user-key-0123456789abcdef';
const slow = (p: string): FakePlan => ({ tokens: Array.from({ length: 200 }, (_, i) => `${p}#${i} `), tokenMs: 20 });

describe('Anthropic clients with keys and aliases, in front of a fake Ollama', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis({ JARVIS_API_KEYS: `alice:${USER_KEY}`, JARVIS_MODEL_ALIASES: 'claude-sonnet-4-5*=fake-qwen:latest, *=fake-llama:latest' });
  });
  afterAll(async () => {
    await j?.close();
  });
  const client = (options: { apiKey?: string; authToken?: string; session?: string } = { apiKey: USER_KEY }) =>
    new Anthropic({
      baseURL: j.url,
      maxRetries: 0,
      ...(options.authToken ? { authToken: options.authToken, apiKey: null } : { apiKey: options.apiKey ?? null }),
      ...(options.session ? { defaultHeaders: { 'X-Session-Id': options.session } } : {}),
    });

  it('x-api-key (apiKey) and Authorization: Bearer (authToken) are both accepted; a bad key is an AuthenticationError in Anthropic\'s shape', async () => {
    j.fake!.plan = agentPlan;
    const ask = (c: Anthropic) => c.messages.create({ model: 'fake-llama:latest', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
    expect((await ask(client())).content).toEqual([{ type: 'text', text: 'Hello from the fake.' }]);
    expect((await ask(client({ authToken: USER_KEY }))).stop_reason).toBe('end_turn');
    const err = await ask(client({ apiKey: 'wrong-key-0123456789abcdef' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err as APIError).error).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: 'the API key is not valid' } });
    // Any route, for an Anthropic client (its anthropic-version header): the 401 of /v1/models too.
    const list = await client({ apiKey: 'wrong-key-0123456789abcdef' }).models.list().catch((e: unknown) => e);
    expect(list).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((list as APIError).error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('models.list and models.retrieve answer in Anthropic\'s shape; other clients keep OpenAI\'s', async () => {
    const models = [];
    for await (const model of client().models.list({ limit: 1 })) models.push(model);
    expect(models).toEqual([
      { type: 'model', id: 'fake-llama:latest', display_name: 'fake-llama:latest', created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
      { type: 'model', id: 'fake-qwen:latest', display_name: 'fake-qwen:latest', created_at: expect.any(String) },
    ]);
    expect(await client().models.retrieve('fake-qwen:latest')).toMatchObject({ type: 'model', id: 'fake-qwen:latest' });
    const openai = await new OpenAI({ baseURL: `${j.url}/v1`, apiKey: USER_KEY }).models.list();
    expect(openai.data[0]).toMatchObject({ object: 'model', id: 'fake-llama:latest' });
  });

  it('count_tokens answers {input_tokens}: on Ollama an estimate, said so in a header, that grows with the request', async () => {
    const count = (text: string) => client().messages.countTokens({ model: 'claude-sonnet-4-5', system: 'Be brief.', messages: [{ role: 'user', content: text }] });
    const { data: small, response } = await count('hi').withResponse();
    expect(response.headers.get('x-jarvis-token-count')).toBe('estimate');
    const large = await count('word '.repeat(400));
    expect(small.input_tokens).toBeGreaterThan(0);
    expect(large.input_tokens).toBeGreaterThan(small.input_tokens + 400);
  });

  it('a Claude Code–shaped request: claude-… name, system blocks with cache_control, tools, anthropic-beta, stream → the aliased model, the asked name in the reply', async () => {
    j.fake!.plan = agentPlan;
    // Claude Code calls the beta surface: `/v1/messages?beta=true`, its betas in `anthropic-beta`.
    const stream = client().beta.messages.stream(
      {
        model: 'claude-sonnet-4-5-20250929',
        max_tokens: 32000,
        system: [
          { type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude." },
          { type: 'text', text: 'Use the tools.', cache_control: { type: 'ephemeral' } },
        ],
        tools: [{ name: 'Bash', description: 'Runs a command', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } }],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'list the files', cache_control: { type: 'ephemeral' } }] }],
        metadata: { user_id: 'user_abc_session_123' },
        betas: ['claude-code-20250219', 'interleaved-thinking-2025-05-14'],
      },
    );
    const final = await stream.finalMessage();
    expect(final.model).toBe('claude-sonnet-4-5-20250929');
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content.find((b) => b.type === 'tool_use')).toMatchObject({ name: 'Bash' });
    const upstream = j.fake!.requests.at(-1)!;
    expect((upstream.body as { model: string }).model).toBe('fake-qwen:latest');
    const counted = await client().beta.messages.countTokens({ model: 'claude-sonnet-4-5-20250929', messages: [{ role: 'user', content: 'list the files' }], betas: ['claude-code-20250219'] });
    expect(counted.input_tokens).toBeGreaterThan(0);
    const alias = await waitForLog(j.logFile, 'model_alias', { requested: 'claude-sonnet-4-5-20250929' });
    expect(alias.fields.model).toBe('fake-qwen:latest');
    const start = await waitForLog(j.logFile, 'stream_start', { user: 'user_abc_session_123' });
    expect(start.fields.model).toBe('fake-qwen:latest');
  });

  it('the alias map serves every protocol; a name the backend has is never aliased', async () => {
    j.fake!.plan = agentPlan;
    const openai = new OpenAI({ baseURL: `${j.url}/v1`, apiKey: USER_KEY });
    const chat = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(chat.model).toBe('gpt-4o');
    expect((j.fake!.requests.at(-1)!.body as { model: string }).model).toBe('fake-llama:latest');
    const ollama = await fetch(`${j.url}/api/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${USER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'hi' }], stream: false }),
    });
    expect(await ollama.json()).toMatchObject({ model: 'claude-haiku-4-5', message: { content: 'Hello from the fake.' } });
    expect((j.fake!.requests.at(-1)!.body as { model: string }).model).toBe('fake-llama:latest');
    await client().messages.create({ model: 'fake-qwen:latest', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    expect((j.fake!.requests.at(-1)!.body as { model: string }).model).toBe('fake-qwen:latest');
    // Conversations: the answer runs on the alias, and records the model that ran.
    const auth = { authorization: `Bearer ${USER_KEY}`, 'content-type': 'application/json' };
    const made = (await (await fetch(`${j.url}/v1/conversations`, { method: 'POST', headers: auth, body: JSON.stringify({ model: 'claude-opus-4-1' }) })).json()) as { id: string };
    await (await fetch(`${j.url}/v1/conversations/${made.id}/messages`, { method: 'POST', headers: auth, body: JSON.stringify({ content: 'hi' }) })).text();
    expect((j.fake!.requests.at(-1)!.body as { model: string }).model).toBe('fake-llama:latest');
  });

  it('aborting a stream closes the upstream (client_closed)', async () => {
    j.fake!.plan = slow;
    const stream = client({ apiKey: USER_KEY, session: 'an-abort' }).messages.stream({ model: 'fake-llama:latest', max_tokens: 1000, messages: [{ role: 'user', content: 'A' }] });
    let seen = 0;
    stream.on('text', () => {
      if (++seen === 3) stream.abort();
    });
    await stream.done().catch(() => undefined);
    expect(seen).toBeGreaterThanOrEqual(3);
    const upstream = await j.fake!.waitForRequest((r) => r.prompt === 'A');
    await upstream.closed;
    expect(upstream.aborted).toBe(true);
    const end = await waitForLog(j.logFile, 'stream_end', { session: 'an-abort' });
    expect(end.fields.reason).toBe('client_closed');
  });

  it('a second request on the session supersedes the first: stop_reason "end_turn" with cancel_reason "superseded"', async () => {
    j.fake!.plan = (p) => (p === 'S1' ? slow(p) : { tokens: ['B1 ', 'B2'], tokenMs: 5 });
    const first = await client({ apiKey: USER_KEY, session: 'an-two' }).messages.create({ model: 'fake-llama:latest', max_tokens: 1000, messages: [{ role: 'user', content: 'S1' }], stream: true });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    const firstDone = (async () => {
      for await (const event of first) events.push(event);
    })();
    await expect.poll(() => events.length, { timeout: 10_000 }).toBeGreaterThan(4);
    const second = await client({ apiKey: USER_KEY, session: 'an-two' }).messages.create({ model: 'fake-llama:latest', max_tokens: 100, messages: [{ role: 'user', content: 'S2' }] });
    await firstDone;
    expect(events.map((e) => e.type).slice(0, 2)).toEqual(['message_start', 'content_block_start']);
    expect(events.at(-1)?.type).toBe('message_stop');
    const delta = events.at(-2) as Anthropic.RawMessageDeltaEvent;
    expect(delta.delta).toMatchObject({ stop_reason: 'end_turn', cancel_reason: 'superseded' });
    expect(second.content).toEqual([{ type: 'text', text: 'B1 B2' }]);
    const up = await j.fake!.waitForRequest((r) => r.prompt === 'S1');
    await up.closed;
    expect(up.aborted).toBe(true);
  });

  it('the Stop endpoint ends a stream:false Message with what it had, stop_reason "end_turn" and cancel_reason "stopped"', async () => {
    j.fake!.plan = slow;
    const pending = client({ apiKey: USER_KEY, session: 'an-stop' }).messages.create({ model: 'fake-llama:latest', max_tokens: 1000, messages: [{ role: 'user', content: 'T' }] });
    const upstream = await j.fake!.waitForRequest((r) => r.prompt === 'T');
    await expect.poll(() => upstream.tokensSent, { timeout: 10_000 }).toBeGreaterThan(2);
    const stop = await fetch(`${j.url}/v1/sessions/an-stop/stop`, { method: 'POST', headers: { 'x-api-key': USER_KEY } });
    expect(await stop.json()).toMatchObject({ stopped: true });
    const message = await pending;
    expect(message).toMatchObject({ stop_reason: 'end_turn', cancel_reason: 'stopped', content: [{ type: 'text', text: expect.stringMatching(/^T#0 T#1 /) }] });
    await upstream.closed;
    expect(upstream.aborted).toBe(true);
  });
});

describe('JARVIS_MODEL_ALIASES at start-up', () => {
  it('a malformed value is a clear start-up error naming the variable', () => {
    expect(() => loadConfig({ JARVIS_MODEL_ALIASES: 'claude-sonnet-4-5' })).toThrow(/JARVIS_MODEL_ALIASES: "claude-sonnet-4-5" is not name=model/);
    expect(() => loadConfig({ JARVIS_MODEL_ALIASES: 'a=x,a=y' })).toThrow(/"a" is named twice/);
    expect(() => loadConfig({ JARVIS_MODEL_ALIASES: 'a*b=x' })).toThrow(/not its last character/);
    expect(loadConfig({ JARVIS_MODEL_ALIASES: 'claude-haiku-4-5=llama3.2, *=qwen3:8b' }).modelAliases.fallback).toBe('qwen3:8b');
  });
});
