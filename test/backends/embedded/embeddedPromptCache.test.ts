import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat } from '../../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';
import { waitForLog } from '../../helpers/log.js';
import { EMBEDDED_TEST_ENV, TEST_MODEL } from '../kindFakes.js';

// What the KV cache saves (docs/embedded.md "Log lines", docs/upstreams.md "Affinity"): a
// conversation continued on the sequence that answered its last prompt evaluates only what is
// new; `engine_prompt` says how many of the prompt's tokens were evaluated and how many cached.

let j: TestJarvis;
beforeAll(async () => {
  // One sequence: every request gets the one the last request left its tokens in.
  j = await startTestJarvis({ JARVIS_BACKEND: 'embedded', ...EMBEDDED_TEST_ENV, JARVIS_EMBEDDED_PARALLEL: '1' }, { fake: false });
});
afterAll(async () => {
  await j?.close();
});

type Message = { role: 'user' | 'assistant'; content: string };

const history = (topic: string): Message[] =>
  Array.from({ length: 6 }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: `${topic} turn ${i}: ${'the lighthouse keeper watched the sea and wrote it down '.repeat(4)}` }));

async function ask(messages: Message[], session: string): Promise<{ text: string; prompt: Record<string, string> }> {
  const call = chat(j.url, { session, body: { model: TEST_MODEL, messages, max_tokens: 8, seed: 1 } });
  await call.finished;
  expect(call.terminal).toMatchObject({ type: 'done' });
  const line = await waitForLog(j.logFile, 'engine_prompt', { trace: await call.streamId });
  return { text: call.text, prompt: line.fields };
}

describe('the prompt cache of a sequence', () => {
  it('a conversation continued evaluates only its new tokens; another conversation evaluates all of its own', async () => {
    const first = [...history('boats'), { role: 'user' as const, content: 'and then?' }];
    const cold = await ask(first, 'cache-a');
    expect(Number(cold.prompt.prompt_tokens)).toBeGreaterThan(200);
    expect(cold.prompt.evaluated).toBe(cold.prompt.prompt_tokens);
    expect(cold.prompt.cached).toBe('0');
    expect(cold.prompt.where).toBe(`sequence 0 of ${TEST_MODEL}`);

    const warm = await ask([...first, { role: 'assistant', content: cold.text }, { role: 'user', content: 'go on' }], 'cache-a');
    // Everything up to the last answer was in the sequence already.
    expect(Number(warm.prompt.cached)).toBeGreaterThanOrEqual(Number(cold.prompt.prompt_tokens) - 2);
    expect(Number(warm.prompt.evaluated)).toBeLessThan(Number(warm.prompt.prompt_tokens) / 4);
    expect(Number(warm.prompt.evaluated) + Number(warm.prompt.cached)).toBe(Number(warm.prompt.prompt_tokens));

    const other = await ask([...history('trains'), { role: 'user', content: 'and then?' }], 'cache-b');
    // Only the template's first few tokens are shared with the conversation before it.
    expect(Number(other.prompt.cached)).toBeLessThan(10);
  });
});
