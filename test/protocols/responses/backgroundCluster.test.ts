import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEASE_MS, startCluster, type TestCluster } from '../../helpers/cluster/cluster.js';
import { postgresUnavailable } from '../../helpers/services/postgres.js';
import { redisUnavailable } from '../../helpers/services/redis.js';

// Background responses across the instances of a cluster (docs/clusters.md, docs/responses.md
// "Background responses"): real Redis and Postgres, three Jarvis processes, the openai package.

const skip = redisUnavailable() ?? postgresUnavailable();
const KEY = 'alice-key-0123456789abcdef';
const MODEL = 'fake-llama:latest';
type Event = Record<string, unknown> & { type: string; sequence_number: number };

/** Reads a background response's SSE (POST with stream:true, or GET …?stream=true) until `until` says stop, or to its end. */
async function readSse(res: Response, until: (events: Event[]) => boolean = () => false, abort?: AbortController): Promise<Event[]> {
  expect(res.status).toBe(200);
  const events: Event[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (data) events.push(JSON.parse(data.slice(6)) as Event);
      }
      if (until(events)) {
        abort?.abort();
        break;
      }
    }
  } catch (err) {
    if (!abort?.signal.aborted) throw err;
  }
  return events;
}

function post(url: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/responses`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
}

function getStream(url: string, id: string, startingAfter?: number): Promise<Response> {
  const q = startingAfter === undefined ? '' : `&starting_after=${startingAfter}`;
  return fetch(`${url}/v1/responses/${id}?stream=true${q}`, { headers: { authorization: `Bearer ${KEY}` } });
}

const long = (p: string) => ({ tokens: Array.from({ length: 4000 }, (_, i) => `${p}#${i} `), tokenMs: 5 });

describe.skipIf(skip)('background responses across a cluster', () => {
  let c: TestCluster;
  let clients: OpenAI[];
  beforeAll(async () => {
    c = await startCluster(3);
    clients = c.instances.map((p) => new OpenAI({ baseURL: `${p.url}/v1`, apiKey: KEY, maxRetries: 0 }));
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('created on A, its creator gone, resumed exactly on B (starting_after), the same as a full read on C', async () => {
    c.fake.plan = (p) => ({ tokens: Array.from({ length: 120 }, (_, i) => `${p}#${i} `), tokenMs: 10 });
    const [a, , cc] = c.instances as [NonNullable<TestCluster['instances'][0]>, NonNullable<TestCluster['instances'][0]>, NonNullable<TestCluster['instances'][0]>];
    const abort = new AbortController();
    // The creator reads 20 events, then goes away: the response goes on.
    const seen = await readSse(await post(a.url, { model: MODEL, input: 'resume-me', background: true, stream: true }, abort.signal), (e) => e.length >= 20, abort);
    const id = (seen[0]!.response as { id: string }).id;
    const n = seen.at(-1)!.sequence_number;
    const stream = await clients[1]!.responses.retrieve(id, { stream: true, starting_after: n });
    const resumed: Event[] = [];
    for await (const event of stream) resumed.push(event as unknown as Event);
    expect(resumed[0]!.sequence_number).toBe(n + 1);
    expect(resumed.map((e) => e.sequence_number)).toEqual(resumed.map((_, i) => n + 1 + i));
    expect(resumed.at(-1)!.type).toBe('response.completed');
    const full = await readSse(await getStream(cc.url, id));
    expect([...seen, ...resumed]).toEqual(full);
    const done = await clients[2]!.responses.retrieve(id);
    expect(done.status).toBe('completed');
    expect(done.output_text).toBe(Array.from({ length: 120 }, (_, i) => `resume-me#${i} `).join(''));
  }, 30_000);

  it('cancelled from C while it runs on A: its upstream request closes, every instance shows it cancelled', async () => {
    c.fake.plan = long;
    const created = await clients[0]!.responses.create({ model: MODEL, input: 'cancel-me', background: true });
    expect(created.status).toBe('queued');
    const upstream = await c.fake.waitForRequest((r) => r.prompt.includes('cancel-me'));
    const cancelled = await clients[2]!.responses.cancel(created.id);
    expect(cancelled.status).toBe('cancelled');
    await upstream.closed;
    expect(upstream.completed).toBe(false);
    expect((await clients[1]!.responses.retrieve(created.id)).status).toBe('cancelled');
    // Cancelling an ended response answers it unchanged.
    expect((await clients[1]!.responses.cancel(created.id)).status).toBe('cancelled');
  }, 30_000);

  it('kill -9 of its instance: a reader on B ends within the lease with response.failed, GET shows failed', async () => {
    c.fake.plan = long;
    const created = await clients[0]!.responses.create({ model: MODEL, input: 'kill-me', background: true });
    await c.fake.waitForRequest((r) => r.prompt.includes('kill-me'));
    // The reader on B is attached (its answer has begun) before A dies.
    const reading = readSse(await getStream(c.instances[1]!.url, created.id));
    c.instances[0]!.proc.kill('SIGKILL');
    const killedAt = Date.now();
    const events = await reading;
    expect(Date.now() - killedAt).toBeLessThan(LEASE_MS * 2 + 8000);
    expect(events.at(-1)).toMatchObject({ type: 'response.failed', response: { status: 'failed', error: { code: 'lost' } } });
    const got = await clients[2]!.responses.retrieve(created.id);
    expect(got.status).toBe('failed');
    expect(got.error).toMatchObject({ code: 'lost' });
  }, 40_000);
});
