import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attach, call, CANCEL_TIMEOUT_MS, chat, startCluster, type TestCluster } from '../helpers/cluster/cluster.js';
import { waitForLog } from '../helpers/log.js';
import { redisUnavailable } from '../helpers/services/redis.js';
import { postgresUnavailable } from '../helpers/services/postgres.js';

// Three instances on one Redis and one Postgres (docs/clusters.md): the session rules, Stop
// and resume hold across instances.

const skip = redisUnavailable() ?? postgresUnavailable();
let c: TestCluster;
const url = (i: number) => c.instances[i]!.url;
const logOf = (i: number) => c.instances[i]!.logFile;
let n = 0;
const session = () => `cs-${process.pid}-${n++}`;

describe.skipIf(skip)('cluster: three instances', () => {
  beforeAll(async () => {
    c = await startCluster(3);
    c.fake.plan = (p) => ({ tokens: Array.from({ length: p.startsWith('long') ? 3000 : 30 }, (_, i) => `${p}#${i} `), tokenMs: 5 });
  }, 90_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('/health names the instance and Redis', async () => {
    const h = await call(url(1), 'GET', '/health');
    expect(h.body.cluster).toEqual({ instance: 'i2', redis: 'ready' });
  });

  it('a prompt on another instance supersedes the session’s stream: old upstream closed, bounded wait, both instances logged', async () => {
    const s = session();
    const a = chat(url(0), s, 'long-A');
    await a.tokensReached(5);
    const upstreamA = c.fake.requests.find((r) => r.prompt === 'long-A')!;
    const started = Date.now();
    const b = chat(url(1), s, 'B');
    await b.finished;
    expect(Date.now() - started).toBeLessThan(CANCEL_TIMEOUT_MS + 5000);
    await a.finished;
    expect(a.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    expect(b.terminal).toMatchObject({ type: 'done' });
    expect(upstreamA.aborted).toBe(true);
    const line = await waitForLog(logOf(1), 'prev_stream_finished_cleanly', { new_trace: b.streamId! });
    expect(line.fields).toMatchObject({ trace: a.streamId, prev_instance: 'i1', instance: 'i2' });
    // B's upstream began only after A's had closed: one generator at a time.
    const upstreamB = c.fake.requests.find((r) => r.prompt === 'B')!;
    expect(upstreamB.receivedAt).toBeGreaterThanOrEqual(upstreamA.closedAt!);
  });

  it('Stop through another instance closes the upstream', async () => {
    const s = session();
    const a = chat(url(0), s, 'long-stop');
    await a.tokensReached(3);
    const up = c.fake.requests.find((r) => r.prompt === 'long-stop')!;
    const stop = await call(url(2), 'POST', `/v1/sessions/${s}/stop`);
    expect(stop.body).toMatchObject({ stopped: true });
    await a.finished;
    expect(a.terminal).toMatchObject({ type: 'cancelled', reason: 'stopped' });
    await expect.poll(() => up.aborted, { timeout: 5000 }).toBe(true);
    // Idempotent once the stream's end has reached Redis (the client may read it from i1's memory first).
    await expect.poll(async () => (await call(url(1), 'POST', `/v1/sessions/${s}/stop`)).body, { timeout: 5000 }).toEqual({ stopped: false });
  });

  it('a reader on another instance resumes after any seq and follows the stream live, each token once', async () => {
    const s = session();
    const a = chat(url(0), s, 'long-resume');
    await a.tokensReached(10);
    const id = a.streamId!;
    const r1 = attach(url(1), id, 4);
    await r1.tokensReached(40);
    r1.abort();
    // A drop does not stop what the client has already received: lines of the chunk
    // already read are still handed on after abort(). The resume promise (docs/conversations.md,
    // "nothing lost, nothing twice") is about the last seq the reader *got*, so take it once
    // r1's read has ended, not at the abort() call.
    await r1.finished;
    const last = r1.lastSeq;
    const r2 = attach(url(2), id, last);
    await r2.tokensReached(last + 20);
    await call(url(1), 'POST', `/v1/sessions/${s}/stop`);
    await Promise.all([a.finished, r2.finished]);
    expect(r1.tokens[0]!.seq).toBe(5);
    expect(r2.tokens.map((t) => t.seq)).toEqual(Array.from({ length: r2.tokens.length }, (_, i) => last + 1 + i));
    expect(r2.terminal).toMatchObject({ type: 'cancelled', reason: 'stopped' });
    const whole = a.text;
    expect(r1.text + r2.text).toBe(whole.slice(whole.indexOf('long-resume#5 ')));
    // A reader of the ended stream, on any instance, gets it all again.
    const again = attach(url(1), id);
    await again.finished;
    expect(again.text).toBe(whole);
    expect(again.terminal).toMatchObject({ type: 'cancelled' });
  });

  it('conversations are shared (Postgres): an answer started on one instance is read whole from another', async () => {
    const conv = await call(url(0), 'POST', '/v1/conversations', { title: 'shared' });
    expect(conv.status).toBe(201);
    const res = await fetch(`${url(0)}/v1/conversations/${conv.body.id}/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer alice-key-0123456789abcdef', 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ content: 'short' }),
    });
    const streamId = res.headers.get('x-stream-id')!;
    await res.text();
    const replay = attach(url(2), streamId);
    await replay.finished;
    await expect
      .poll(async () => (await call(url(1), 'GET', `/v1/conversations/${conv.body.id}`)).body.messages?.at(-1)?.state, { timeout: 10_000 })
      .toBe('done');
    const stored = await call(url(1), 'GET', `/v1/conversations/${conv.body.id}`);
    expect(stored.body.messages.at(-1).content).toBe(replay.text);
    expect(replay.terminal).toMatchObject({ type: 'done' });
  });

  it('an unknown stream is a quick 404 on every instance', async () => {
    for (let i = 0; i < 3; i++) expect((await call(url(i), 'GET', '/v1/streams/nope123/events')).status).toBe(404);
  });

  it('/debug/streams with an admin key lists every instance’s streams', async () => {
    const s1 = session();
    const s2 = session();
    const a = chat(url(0), s1, 'long-debug1');
    const b = chat(url(2), s2, 'long-debug2');
    await Promise.all([a.tokensReached(2), b.tokensReached(2)]);
    await expect
      .poll(async () => {
        const d = await call(url(1), 'GET', '/debug/streams', undefined, { authorization: 'Bearer ops-key-0123456789abcdef' });
        return (d.body.streams as Array<{ stream_id: string; instance: string }>).filter((x) => x.stream_id === a.streamId || x.stream_id === b.streamId).map((x) => x.instance).sort();
      }, { timeout: 10_000, interval: 100 })
      .toEqual(['i1', 'i3']);
    await call(url(1), 'POST', `/v1/sessions/${s1}/stop`);
    await call(url(1), 'POST', `/v1/sessions/${s2}/stop`);
    await Promise.all([a.finished, b.finished]);
  });
});
