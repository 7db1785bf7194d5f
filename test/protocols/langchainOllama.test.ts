import { ChatOllama } from '@langchain/ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';

// LangChain's Ollama chat model (@langchain/ollama, over the `ollama` package)
// against Jarvis's Ollama API, in front of an Ollama and of an OpenAI-compatible
// server whose ids have no tag (docs/api.md#compatibility). The ChatOpenAI cases
// are in clients.test.ts.

const reply = (prompt: string) => Array.from({ length: 20 }, (_, i) => `${prompt}#${i} `).join('');

const cases: Array<{ upstream: string; env: Record<string, string>; model: string; sent: string }> = [
  { upstream: 'ollama', env: {}, model: 'fake-llama:latest', sent: 'fake-llama:latest' },
  { upstream: 'openai', env: { JARVIS_BACKEND: 'openai' }, model: 'plain:latest', sent: 'plain' },
];

describe.each(cases)('@langchain/ollama ChatOllama through Jarvis in front of $upstream', ({ upstream, env, model, sent }) => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis(env);
    if (upstream === 'openai') j.fake!.models = ['plain'];
  });
  afterAll(() => j.close());

  const chat = () => new ChatOllama({ model, baseUrl: j.url, temperature: 0.2, headers: { 'X-Session-Id': `lc-${upstream}` } });

  it('invoke answers the whole reply with its usage', async () => {
    const message = await chat().invoke([
      ['system', 'be brief'],
      ['human', 'Hi'],
    ]);
    expect(message.content).toBe(reply('Hi'));
    expect(message.usage_metadata).toMatchObject({ input_tokens: 7, output_tokens: 20 });
    const up = j.fake!.requests.at(-1)!;
    expect(up.model).toBe(sent);
    expect(up.prompt).toBe('Hi');
  });

  it('stream yields the reply in pieces', async () => {
    let text = '';
    let pieces = 0;
    for await (const chunk of await chat().stream('Go')) {
      text += String(chunk.content);
      pieces++;
    }
    expect(text).toBe(reply('Go'));
    expect(pieces).toBeGreaterThan(5);
  });
});
