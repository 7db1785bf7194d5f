import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { StreamReader } from '../helpers/streamReader.js';

// The retained answers' budget shared between keys (docs/security.md "Retained
// answers and storage"), at small scale: one key's many large answers must not
// push another key's ended answer out of the stream log within its retention.

const ALICE = 'alice-key-0123456789abcdef';
const BOB = 'bob-key-0123456789abcdef0';
const BUDGET = 60_000;
const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const json = { 'content-type': 'application/json' };

let j: TestJarvis;
beforeAll(async () => {
  j = await startTestJarvis({ JARVIS_API_KEYS: `alice:${ALICE},bob:${BOB}`, JARVIS_STREAM_LOG_MAX_CHARS: String(BUDGET), JARVIS_STREAM_RETENTION_MS: '300000' });
});
afterAll(async () => {
  await j.close();
});

async function conversation(key: string): Promise<string> {
  const res = await fetch(`${j.url}/v1/conversations`, { method: 'POST', headers: { ...json, ...auth(key) }, body: '{}' });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

function prompt(key: string, id: string, content: string): StreamReader {
  return new StreamReader((signal) => fetch(`${j.url}/v1/conversations/${id}/messages`, { method: 'POST', headers: { ...json, ...auth(key) }, body: JSON.stringify({ content }), signal }));
}

const tokens = (n: number, size: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i}`.padEnd(size, '.'));

describe('retained answers under one key flooding the stream log', () => {
  it("bob's ended answer survives alice's 34 large live answers and is replayed whole", async () => {
    // Bob: 1,000 characters. Alice: 34 answers of 4,000 each, together more than twice the budget.
    j.fake!.plan = (p) => (p.startsWith('bob') ? { tokens: tokens(50, 20, 'b'), tokenMs: 1 } : { tokens: tokens(100, 40, 'a'), tokenMs: 4 });
    const bob = prompt(BOB, await conversation(BOB), 'bob asks');
    await bob.finished;
    expect(bob.terminal?.type).toBe('done');
    const bobStream = bob.streamId!;

    const ids = await Promise.all(Array.from({ length: 34 }, () => conversation(ALICE)));
    const alice = ids.map((id, i) => prompt(ALICE, id, `alice ${i}`));
    await Promise.all(alice.map((a) => a.finished));
    const truncated = alice.filter((a) => a.terminal?.type === 'done' && a.terminal.reason === 'length').length;
    // Alice's answers outgrew the budget: some were cut ('full' ends a conversation's answer as a length limit would).
    expect(truncated).toBeGreaterThan(0);

    const again = new StreamReader((signal) => fetch(`${j.url}/v1/streams/${bobStream}/events`, { headers: auth(BOB), signal }));
    await again.finished;
    expect(again.status).toBe(200);
    expect(again.text).toBe(bob.text);
    expect(again.terminal?.type).toBe('done');
    console.log(`retained-fairness: budget ${BUDGET} chars; alice 34 x 4000 chars, ${truncated} cut at the budget; bob's retained answer: ${again.status}`);
  }, 60_000);
});
