import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { ALICE_KEY, BOB_KEY, CAROL_KEY, KEYS, OPS_KEY, ndjsonChat, today, usage, usageUntil } from './helpers.js';

// The usage record (docs/team.md "Usage and limits"): each model request's end adds to its
// key's row for its model and UTC day, with the model server's own token counts when it
// reports them (`reported`), else Jarvis's count (`counted`); GET /v1/usage shows a caller
// its own rows, an admin everyone's.

describe('the usage record, one process in front of a fake OpenAI-compatible server', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai', ...KEYS });
  });
  afterAll(async () => {
    await j?.close();
  });

  it('records each key\'s requests per model and day: reported usage, counted usage, cancelled answers; GET /v1/usage shows own rows, an admin all', async () => {
    // Reported: the fake's usage chunk says prompt 7, completion 20.
    j.fake!.plan = (p) => ({ tokens: Array.from({ length: 20 }, (_, i) => `${p}${i} `), tokenMs: 1 });
    const a = ndjsonChat(j.url, ALICE_KEY, 'a');
    await a.finished;
    expect(a.terminal).toMatchObject({ type: 'done', reason: 'stop', usage: { prompt_tokens: 7, completion_tokens: 20 } });

    // Counted: no usage from the server; Jarvis counts 12 streamed tokens and estimates the prompt.
    j.fake!.plan = (p) => ({ tokens: Array.from({ length: 12 }, (_, i) => `${p}${i} `), tokenMs: 1, usageForm: 'none' });
    const b = ndjsonChat(j.url, ALICE_KEY, 'bbbbbbbb', { model: 'fake-qwen:latest' });
    await b.finished;
    expect(b.terminal).toMatchObject({ type: 'done', usage: { completion_tokens: 12 } });

    // Cancelled after 5 tokens: counts what was generated.
    j.fake!.plan = (p) => ({ tokens: Array.from({ length: 500 }, (_, i) => `${p}${i} `), tokenMs: 10 });
    const c = ndjsonChat(j.url, BOB_KEY, 'c');
    await c.tokensReached(5);
    c.abort();
    await c.finished;

    const day = today();
    const own = await usageUntil(j.url, ALICE_KEY, (body) => body.totals.requests === 2);
    expect(own).toMatchObject({ object: 'usage', to: day });
    expect(own.data).toEqual([
      { day, owner: 'alice', key_id: 'env:alice', key_name: 'alice', model: 'fake-llama:latest', requests: 1, prompt_tokens: 7, completion_tokens: 20, stream_ms: expect.any(Number), sources: { reported: 1, counted: 0 } },
      // The prompt's estimate: 4 per message + 8 characters / 4.
      { day, owner: 'alice', key_id: 'env:alice', key_name: 'alice', model: 'fake-qwen:latest', requests: 1, prompt_tokens: 6, completion_tokens: 12, stream_ms: expect.any(Number), sources: { reported: 0, counted: 1 } },
    ]);
    expect(own.totals).toMatchObject({ requests: 2, prompt_tokens: 13, completion_tokens: 32 });

    const bob = await usageUntil(j.url, BOB_KEY, (body) => body.totals.requests === 1);
    expect(bob.data).toHaveLength(1);
    expect(bob.data[0]).toMatchObject({ owner: 'bob', key_id: 'env:bob', requests: 1, sources: { reported: 0, counted: 1 } });
    expect(bob.data[0].completion_tokens).toBeGreaterThanOrEqual(5);
    expect(bob.data[0].stream_ms).toBeGreaterThan(0);
    // Not an admin: another owner's rows come back empty.
    expect((await usage(j.url, BOB_KEY, { owner: 'alice' })).body.data).toEqual([]);

    const all = await usage(j.url, OPS_KEY);
    expect(all.body.data.map((r: any) => `${r.owner}/${r.model}`)).toEqual(['alice/fake-llama:latest', 'alice/fake-qwen:latest', 'bob/fake-llama:latest']);
    const onlyBob = await usage(j.url, OPS_KEY, { owner: 'bob' });
    expect(onlyBob.body.data.map((r: any) => r.key_id)).toEqual(['env:bob']);
    const byKey = await usage(j.url, OPS_KEY, { key_id: 'env:alice', from: day, to: day });
    expect(byKey.body.data).toHaveLength(2);
  });

  it('records embeddings: input tokens, as the server reported them; no completion, no stream time', async () => {
    const res = await fetch(`${j.url}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CAROL_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-llama:latest', input: ['one two three', 'four'] }),
    });
    expect(res.status).toBe(200);
    const reported = ((await res.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens;
    const body = await usageUntil(j.url, CAROL_KEY, (b) => b.totals.requests === 1);
    expect(body.data).toEqual([expect.objectContaining({ key_id: 'env:carol', model: 'fake-llama:latest', requests: 1, prompt_tokens: reported, completion_tokens: 0, stream_ms: 0, sources: { reported: 1, counted: 0 } })]);
  });

  it('answers 400 for a malformed or reversed range, and an empty list for days without use', async () => {
    expect((await usage(j.url, ALICE_KEY, { from: '2024-13-01' })).status).toBe(400);
    const reversed = await usage(j.url, ALICE_KEY, { from: '2024-02-02', to: '2024-02-01' });
    expect(reversed.status).toBe(400);
    expect(reversed.body.error).toMatchObject({ code: 'invalid_request', param: 'from' });
    expect((await usage(j.url, ALICE_KEY, { from: '2000-01-01', to: '2000-01-31' })).body).toEqual({
      object: 'usage',
      from: '2000-01-01',
      to: '2000-01-31',
      data: [],
      totals: { requests: 0, prompt_tokens: 0, completion_tokens: 0, stream_ms: 0 },
    });
  });
});
