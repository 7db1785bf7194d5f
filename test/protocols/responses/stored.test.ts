import OpenAI, { NotFoundError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPlan } from '../../helpers/fakes/fakeUpstream.js';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';

// Stored responses through the openai package (docs/responses.md "Stored responses"):
// store (the default), previous_response_id, retrieve, delete, input items, each key
// seeing only its own; background mode on one instance; a restart keeps them.

const MODEL = 'fake-llama:latest';
const ALICE = 'alice-key-0123456789abcdef';
const BOB = 'bob-key-0123456789abcdefgh';
const KEYS = { JARVIS_API_KEYS: `alice:${ALICE},bob:${BOB}` };

/** A full SSE read of GET /v1/responses/{id}?stream=true: its events, parsed. */
async function readEvents(url: string, id: string, key: string, startingAfter?: number): Promise<Array<Record<string, unknown>>> {
  const query = startingAfter === undefined ? '' : `&starting_after=${startingAfter}`;
  const res = await fetch(`${url}/v1/responses/${id}?stream=true${query}`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  const text = await res.text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
}

describe('stored responses, one instance', () => {
  let j: TestJarvis;
  let alice: OpenAI;
  let bob: OpenAI;
  beforeAll(async () => {
    j = await startTestJarvis(KEYS);
    alice = new OpenAI({ baseURL: `${j.url}/v1`, apiKey: ALICE, maxRetries: 0 });
    bob = new OpenAI({ baseURL: `${j.url}/v1`, apiKey: BOB, maxRetries: 0 });
  });
  afterAll(async () => {
    await j?.close();
  });

  it('previous_response_id gives the model the earlier turns (not their instructions); retrieve, input items, delete', async () => {
    const first = await alice.responses.create({ model: MODEL, input: 'first question', instructions: 'Old rules.' });
    expect(first.status).toBe('completed');
    const second = await alice.responses.create({ model: MODEL, input: 'second question', previous_response_id: first.id, instructions: 'New rules.' });
    expect(second.previous_response_id).toBe(first.id);
    const sent = (j.fake!.requests.at(-1)!.body as { messages: Array<{ role: string; content: string }> }).messages;
    expect(sent.map((m) => [m.role, m.content])).toEqual([
      ['system', 'New rules.'],
      ['user', 'first question'],
      ['assistant', first.output_text],
      ['user', 'second question'],
    ]);

    const got = await alice.responses.retrieve(second.id);
    expect(got).toMatchObject({ id: second.id, status: 'completed', previous_response_id: first.id });
    expect(got.output_text).toBe(second.output_text);

    const items = await alice.responses.inputItems.list(second.id, { order: 'asc' });
    expect(items.data.map((i) => ('role' in i ? i.role : i.type))).toEqual(['user', 'assistant', 'user']);
    const page = await alice.responses.inputItems.list(second.id, { limit: 1 });
    expect(page.data).toHaveLength(1);
    expect(page.has_more).toBe(true);
    expect(page.data[0]!.id).toBe(items.data[2]!.id); // desc by default, as OpenAI

    // Another key: not found, whatever it tries.
    await expect(bob.responses.retrieve(second.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(bob.responses.delete(second.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(bob.responses.inputItems.list(second.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(bob.responses.create({ model: MODEL, input: 'x', previous_response_id: second.id })).rejects.toBeInstanceOf(NotFoundError);

    expect(await alice.responses.delete(second.id)).toEqual({ id: second.id, object: 'response.deleted', deleted: true });
    await expect(alice.responses.retrieve(second.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('store: false keeps nothing; background needs store', async () => {
    const r = await alice.responses.create({ model: MODEL, input: 'not kept', store: false });
    expect(r.status).toBe('completed');
    await expect(alice.responses.retrieve(r.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(alice.responses.create({ model: MODEL, input: 'x', background: true, store: false })).rejects.toMatchObject({ status: 400 });
  });

  it('background: answers queued at once, ends completed; a stream read from any point gives exactly the later events', async () => {
    const r = await alice.responses.create({ model: MODEL, input: 'in the background', background: true });
    expect(r.status).toBe('queued');
    expect(r.background).toBe(true);
    const full = await readEvents(j.url, r.id, ALICE);
    expect(full.map((e) => e.sequence_number)).toEqual(full.map((_, i) => i));
    expect(full.at(-1)!.type).toBe('response.completed');
    for (const n of [0, 5, full.length - 2]) {
      const tail = await readEvents(j.url, r.id, ALICE, n);
      expect(tail).toEqual(full.slice(n + 1));
    }
    const done = await alice.responses.retrieve(r.id);
    expect(done.status).toBe('completed');
    expect(done.output_text).toBe(defaultPlan('in the background').tokens.join(''));
    // The openai package's own resume call.
    const stream = await alice.responses.retrieve(r.id, { stream: true, starting_after: 3 });
    const seqs: number[] = [];
    for await (const event of stream) seqs.push(event.sequence_number);
    expect(seqs).toEqual(full.slice(4).map((e) => e.sequence_number));
  });

  it('cancel stops a background response (its upstream request closes) and answers it cancelled; again, unchanged', async () => {
    j.fake!.plan = () => ({ tokens: Array.from({ length: 400 }, (_, i) => `t${i} `), tokenMs: 20 });
    try {
      const r = await alice.responses.create({ model: MODEL, input: 'long one', background: true });
      const record = await j.fake!.waitForRequest((q) => q.prompt.includes('long one'));
      const cancelled = await alice.responses.cancel(r.id);
      expect(cancelled.status).toBe('cancelled');
      await record.closed;
      expect(record.completed).toBe(false);
      expect((await alice.responses.cancel(r.id)).status).toBe('cancelled');
      expect((await alice.responses.retrieve(r.id)).status).toBe('cancelled');
      await expect(bob.responses.cancel(r.id)).rejects.toBeInstanceOf(NotFoundError);
    } finally {
      j.fake!.plan = defaultPlan;
    }
  });
  it('a background response on an X-Session-Id follows the session rules: a newer prompt supersedes it', async () => {
    j.fake!.plan = () => ({ tokens: Array.from({ length: 400 }, (_, i) => `t${i} `), tokenMs: 20 });
    try {
      const onSession = new OpenAI({ baseURL: `${j.url}/v1`, apiKey: ALICE, maxRetries: 0, defaultHeaders: { 'X-Session-Id': 'bg-session' } });
      const r = await onSession.responses.create({ model: MODEL, input: 'superseded one', background: true });
      await j.fake!.waitForRequest((q) => q.prompt.includes('superseded one'));
      j.fake!.plan = defaultPlan;
      await onSession.responses.create({ model: MODEL, input: 'the newer prompt' });
      const events = await readEvents(j.url, r.id, ALICE);
      expect(events.at(-1)).toMatchObject({ type: 'response.incomplete', response: { status: 'cancelled', cancel_reason: 'superseded' } });
      expect(await alice.responses.retrieve(r.id)).toMatchObject({ status: 'cancelled', cancel_reason: 'superseded' });
      // Another key's reader gets a 404 at once.
      const theirs = await fetch(`${j.url}/v1/responses/${r.id}?stream=true`, { headers: { authorization: `Bearer ${BOB}` } });
      expect(theirs.status).toBe(404);
    } finally {
      j.fake!.plan = defaultPlan;
    }
  });
});

describe('stored responses across a restart', () => {
  it('a restarted Jarvis (SQLite in its data dir) still has them', async () => {
    const first = await startTestJarvis();
    const client = new OpenAI({ baseURL: `${first.url}/v1`, apiKey: 'sk-none', maxRetries: 0 });
    const r = await client.responses.create({ model: MODEL, input: 'remember me' });
    await first.close();
    const second = await startTestJarvis({ JARVIS_DATA_DIR: first.dataDir });
    try {
      const again = new OpenAI({ baseURL: `${second.url}/v1`, apiKey: 'sk-none', maxRetries: 0 });
      const got = await again.responses.retrieve(r.id);
      expect(got.output_text).toBe(r.output_text);
      // Its stream's log did not survive the restart: its events are rebuilt from the stored Response.
      const events = await readEvents(second.url, r.id, 'sk-none');
      expect(events.map((e) => e.type)).toContain('response.output_text.delta');
      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
      expect(events.at(-1)).toMatchObject({ type: 'response.completed', response: { id: r.id, output: r.output } });
      const next = await again.responses.create({ model: MODEL, input: 'and now?', previous_response_id: r.id });
      expect(next.status).toBe('completed');
    } finally {
      await second.close();
    }
  });

  it('a background response running at shutdown is stored cancelled (shutdown)', async () => {
    const first = await startTestJarvis();
    first.fake!.plan = () => ({ tokens: Array.from({ length: 400 }, (_, i) => `t${i} `), tokenMs: 20 });
    const client = new OpenAI({ baseURL: `${first.url}/v1`, apiKey: 'sk-none', maxRetries: 0 });
    const r = await client.responses.create({ model: MODEL, input: 'cut by shutdown', background: true });
    await first.fake!.waitForRequest((q) => q.prompt.includes('cut by shutdown'));
    await first.close();
    const second = await startTestJarvis({ JARVIS_DATA_DIR: first.dataDir });
    try {
      const again = new OpenAI({ baseURL: `${second.url}/v1`, apiKey: 'sk-none', maxRetries: 0 });
      expect(await again.responses.retrieve(r.id)).toMatchObject({ status: 'cancelled', cancel_reason: 'shutdown' });
    } finally {
      await second.close();
    }
  });
});
