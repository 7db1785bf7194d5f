import { createOpenAI } from '@ai-sdk/openai';
import { generateText } from 'ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';

// Session ids as the README's client examples use them (docs/api.md#sessions): an
// `X-Session-Id` names one conversation, and a new prompt on it supersedes the
// answer still streaming. A client that puts one id on every call (defaultHeaders)
// makes calls in parallel supersede each other; a superseded answer ends with
// `finish_reason: "stop"` (a value every OpenAI client knows) and Jarvis's reason
// in `cancel_reason`.

const MODEL = 'fake-llama:latest';
/** Long enough that three calls sent at once overlap; short enough that the winner finishes in about a second. */
const plan = (prompt: string) => ({ tokens: Array.from({ length: 40 }, (_, i) => `${prompt}${i} `), tokenMs: 25 });

type Choice = OpenAI.Chat.Completions.ChatCompletion.Choice & { cancel_reason?: string };

describe('session ids that do not surprise', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
    j.fake!.plan = plan;
  });
  afterAll(() => j.close());

  it('one id on the client (defaultHeaders): of three calls at once, the two older end stop + cancel_reason superseded', async () => {
    const shared = new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'X-Session-Id': 'one-id-for-all' } });
    const before = j.fake!.requests.length;
    const prompts = ['A', 'B', 'C'];
    const answers = await Promise.all(prompts.map((p) => shared.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: p }] })));
    const choices = answers.map((a) => a.choices[0] as Choice);
    // The newest call wins: the only one the upstream was asked for (the others were
    // superseded while they waited, or while they streamed, as arrival decided).
    const upstream = j.fake!.requests.slice(before).map((r) => r.prompt);
    const winner = upstream.at(-1)!;
    const byPrompt = new Map(prompts.map((p, i) => [p, choices[i]!]));
    const losers = prompts.filter((p) => p !== winner);
    expect(losers).toHaveLength(2);
    for (const p of losers) expect(byPrompt.get(p)).toMatchObject({ finish_reason: 'stop', cancel_reason: 'superseded' });
    expect(byPrompt.get(winner)!.finish_reason).toBe('stop');
    expect(byPrompt.get(winner)!.cancel_reason).toBeUndefined();
    expect(byPrompt.get(winner)!.message.content).toBe(plan(winner).tokens.join(''));
  });

  it('a per-conversation id on each call (the README way): three calls at once all finish whole', async () => {
    const client = new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const answers = await Promise.all(
      ['X', 'Y', 'Z'].map((p) =>
        client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: p }] }, { headers: { 'X-Session-Id': `conversation-${p}` } }),
      ),
    );
    for (const [i, p] of ['X', 'Y', 'Z'].entries()) {
      expect(answers[i]!.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: plan(p).tokens.join('') } });
      expect((answers[i]!.choices[0] as Choice).cancel_reason).toBeUndefined();
    }
  });

  it('streamed: the superseded stream ends with a chunk finish_reason stop + cancel_reason superseded', async () => {
    const client = new OpenAI({ baseURL: `${j.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const headers = { 'X-Session-Id': 'streamed-shared' };
    const first = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'S' }], stream: true }, { headers });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    const reading = (async () => {
      for await (const chunk of first) chunks.push(chunk);
    })();
    await expect.poll(() => chunks.length, { timeout: 10_000 }).toBeGreaterThan(2);
    const second = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'T' }] }, { headers });
    await reading;
    expect(chunks.at(-1)!.choices[0]).toMatchObject({ finish_reason: 'stop', cancel_reason: 'superseded' });
    expect(second.choices[0]!.finish_reason).toBe('stop');
  });

  it('the AI SDK sees finishReason "stop" for a superseded answer', async () => {
    const provider = createOpenAI({ baseURL: `${j.url}/v1`, apiKey: 'unused', headers: { 'X-Session-Id': 'ai-sdk-shared' } });
    const results = await Promise.all(['P', 'Q'].map((p) => generateText({ model: provider.chat(MODEL), prompt: p, maxRetries: 0 })));
    expect(results.map((r) => r.finishReason)).toEqual(['stop', 'stop']);
    // One of them was cut short: its text is a proper prefix of the plan.
    const whole = results.filter((r, i) => r.text === plan(['P', 'Q'][i]!).tokens.join(''));
    expect(whole).toHaveLength(1);
  });
});
