import { afterEach, describe, expect, it } from 'vitest';
import { chat } from './helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from './helpers/jarvisServer.js';

// Jarvis reads Ollama's token lines on a fast path (see ollama.ts). Whatever the
// token holds, the text the client gets must be exactly the text Ollama sent.

let j: TestJarvis;
afterEach(async () => {
  await j?.close();
});

const TRICKY = [
  'plain ',
  'He said "hi" ',
  'back\\slash ',
  'new\nline\ttab ',
  'é ü ß ',
  '😀 🎉 ',
  '中文 ',
  '</script><img src=x onerror=alert(1)> ',
  '{"content":"nested","done":false} ',
  '},"done":false} ',
  '\u0000\u001f control ',
  '\u2028\u2029 separators ',
  '"',
  '\\',
  ' ',
];

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
