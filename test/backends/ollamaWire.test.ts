import { afterEach, describe, expect, it } from 'vitest';
import { chat } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { TRICKY } from '../helpers/scenarios/trickyText.js';

// Jarvis reads Ollama's token lines on a fast path (see ollama.ts). Whatever the
// token holds, the text the client gets must be exactly the text Ollama sent.

let j: TestJarvis;
afterEach(async () => {
  await j?.close();
});


describe('Ollama token lines', () => {
  it('round-trip every kind of text exactly', async () => {
    j = await startTestJarvis();
    j.fake!.plan = () => ({ tokens: TRICKY, tokenMs: 1 });
    const call = chat(j.url, { session: 'wire', prompt: 'x' });
    await call.finished;
    expect(call.terminal?.type).toBe('done');
    expect(call.events.filter((e) => e.type === 'token').map((e) => (e.type === 'token' ? e.text : ''))).toEqual(TRICKY);
  });
});
