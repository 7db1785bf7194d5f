import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { chat, postJson } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, waitForLog } from '../helpers/log.js';

// Several model servers behind one Jarvis (docs/upstreams.md): routing by model, least busy,
// affinity, the queue and Stop of a queued stream, the union of the models.

let a: FakeOllama;
let b: FakeOllama;
let j: TestJarvis;

const slow = (prompt: string) => ({ tokens: Array.from({ length: 400 }, (_, i) => `${prompt}${i} `), tokenMs: 5 });

beforeAll(async () => {
  a = await new FakeOllama().start();
  b = await new FakeOllama().start();
  a.models = ['shared:latest', 'only-a:latest'];
  b.models = ['shared:latest', 'only-b:latest'];
  j = await startTestJarvis(
    { JARVIS_UPSTREAMS: `a=ollama:${a.url};max_parallel=1,b=ollama:${b.url};max_parallel=1`, JARVIS_UPSTREAM_QUEUE: '1' },
    { fake: false },
  );
});
afterAll(async () => {
  await j?.close();
  await a?.stop();
  await b?.stop();
});

describe('several model servers', () => {
  it('lists the union once per model, with the servers of each', async () => {
    const list = (await (await fetch(`${j.url}/v1/models`)).json()) as { data: Array<{ id: string; upstreams?: string[] }> };
    expect(list.data.map((m) => m.id).sort()).toEqual(['only-a:latest', 'only-b:latest', 'shared:latest']);
    const health = (await (await fetch(`${j.url}/health`)).json()) as { backend: string };
    expect(health.backend).toBe('upstreams');
  });

  it('routes by model, keeps a session on its server, spreads the others to the least busy', async () => {
    const onlyB = chat(j.url, { session: 'r-1', model: 'only-b', prompt: 'x' });
    await onlyB.finished;
    expect(onlyB.terminal).toMatchObject({ type: 'done' });
    expect(b.requests.at(-1)!.model).toBe('only-b:latest');

    a.plan = slow;
    b.plan = slow;
    const first = chat(j.url, { session: 'spread-1', model: 'shared', prompt: 'one' });
    await first.firstToken();
    const second = chat(j.url, { session: 'spread-2', model: 'shared', prompt: 'two' });
    await second.firstToken();
    const servers = [a, b].map((f) => f.requests.filter((r) => r.prompt === 'one' || r.prompt === 'two').length);
    expect(servers).toEqual([1, 1]);
    // Both servers full (max_parallel 1): a third waits in the queue, told its place; Stop takes it out, no request sent.
    const third = chat(j.url, { session: 'spread-3', model: 'shared', prompt: 'three' });
    await third.waitFor((e) => e.type === 'status' && (e as { status: string }).status === 'queued');
    expect(third.events.find((e) => (e as { status?: string }).status === 'queued')).toMatchObject({ position: 1 });
    // /debug/streams says where each runs, and which waits.
    const debug = (await (await fetch(`${j.url}/debug/streams`)).json()) as { streams: Array<{ session_id: string; upstream?: string; queued?: boolean }> };
    const bySession = new Map(debug.streams.map((row) => [row.session_id, row]));
    expect([bySession.get('spread-1')?.upstream, bySession.get('spread-2')?.upstream].sort()).toEqual(['a', 'b']);
    expect(bySession.get('spread-3')).toMatchObject({ queued: true });
    expect(bySession.get('spread-3')?.upstream).toBeUndefined();
    // The queue holds one: a fourth is refused with 503 upstream_busy and Retry-After.
    const refused = await postJson(`${j.url}/v1/chat/completions`, { model: 'shared', messages: [{ role: 'user', content: 'four' }] });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(refused.body.error.code).toBe('upstream_busy');
    await postJson(`${j.url}/v1/sessions/spread-3/stop`, {});
    await third.finished;
    expect(third.terminal).toMatchObject({ type: 'cancelled', reason: 'stopped' });
    expect([...a.requests, ...b.requests].some((r) => r.prompt === 'three')).toBe(false);
    // Its stream_end says no engine had its work (and came without waiting for a verdict).
    expect((await waitForLog(j.logFile, 'stream_end', { trace: await third.streamId })).fields).toMatchObject({ reason: 'stopped', cancel: 'confirmed', cancel_how: 'not_started' });
    for (const s of ['spread-1', 'spread-2']) await postJson(`${j.url}/v1/sessions/${s}/stop`, {});
    await Promise.all([first.finished, second.finished]);
    a.plan = b.plan = (prompt) => ({ tokens: [`${prompt}.`], tokenMs: 1 });

    // Affinity: the session's next prompts go where its first went.
    const firstOf = chat(j.url, { session: 'sticky', model: 'shared', prompt: 's0' });
    await firstOf.finished;
    const where = a.requests.some((r) => r.prompt === 's0') ? a : b;
    for (let i = 1; i <= 4; i++) {
      const next = chat(j.url, { session: 'sticky', model: 'shared', prompt: `s${i}` });
      await next.finished;
      expect(where.requests.some((r) => r.prompt === `s${i}`)).toBe(true);
    }
    const trace = await firstOf.streamId;
    expect((await waitForLog(j.logFile, 'stream_end', { trace })).fields.upstream).toBe(where === a ? 'a' : 'b');
    expect(events(j.logFile, 'upstream_routed').filter((e) => e.fields.affinity === 'kept').length).toBeGreaterThanOrEqual(4);
  });
});
