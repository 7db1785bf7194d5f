import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat, postJson } from '../helpers/chatClient.js';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, waitForLog } from '../helpers/log.js';

// Least busy by weight, and conversation affinity (docs/upstreams.md "Routing"): `wide` is
// served by a (weight 2) and b; `tight` by c and d, one stream at a time each.

let a: FakeOllama;
let b: FakeOllama;
let c: FakeOllama;
let d: FakeOllama;
let j: TestJarvis;

const quick = (prompt: string) => ({ tokens: [`${prompt} `, 'ok'], tokenMs: 1 });
const slow = (prompt: string) => ({ tokens: Array.from({ length: 500 }, (_, i) => `${prompt}${i} `), tokenMs: 10 });

beforeAll(async () => {
  [a, b, c, d] = await Promise.all([new FakeOllama().start(), new FakeOllama().start(), new FakeOllama().start(), new FakeOllama().start()]);
  a.models = b.models = ['wide:latest'];
  c.models = d.models = ['tight:latest'];
  for (const f of [a, b, c, d]) f.plan = quick;
  j = await startTestJarvis(
    {
      JARVIS_UPSTREAMS: `a=ollama:${a.url};weight=2,b=ollama:${b.url},c=ollama:${c.url};max_parallel=1,d=ollama:${d.url};max_parallel=1`,
      JARVIS_UPSTREAM_PROBE_MS: '200',
    },
    { fake: false },
  );
});
afterAll(async () => {
  await j?.close();
  for (const f of [a, b, c, d]) await f?.stop();
});

/** Which fake got the prompt. */
function servedBy(prompt: string): string {
  const found = (['a', 'b', 'c', 'd'] as const).filter((n) => ({ a, b, c, d })[n].requests.some((r) => r.prompt === prompt));
  return found.join('+') || 'none';
}

async function ask(session: string, model: string, prompt: string): Promise<void> {
  const call = chat(j.url, { session, model, prompt });
  await call.finished;
  expect(call.terminal, `${session}: ${prompt}`).toMatchObject({ type: 'done' });
  expect(call.text).toBe(`${prompt} ok`);
  // The log is written asynchronously, in order: with the stream_end in, its routing lines are.
  await waitForLog(j.logFile, 'stream_end', { trace: await call.streamId });
}

describe('least busy by weight', () => {
  it('weight=2 takes two thirds of the streams running at once', async () => {
    a.plan = b.plan = slow;
    const calls = Array.from({ length: 9 }, (_, i) => chat(j.url, { session: `w-${i}`, model: 'wide', prompt: `w${i}` }));
    await Promise.all(calls.map((call) => call.firstToken()));
    const counts = [a, b].map((f) => f.requests.filter((r) => r.prompt.startsWith('w') && r.closedAt === undefined).length);
    expect(counts).toEqual([6, 3]);
    await Promise.all(calls.map((_, i) => postJson(`${j.url}/v1/sessions/w-${i}/stop`, {})));
    await Promise.all(calls.map((call) => call.finished));
    a.plan = b.plan = quick;
  });
});

describe('affinity', () => {
  it('a session stays on its server while it is up and has room', async () => {
    await ask('keep', 'wide', 'k0');
    const home = servedBy('k0');
    // Its server busier than the other: least busy alone would send it elsewhere; affinity keeps it.
    (home === 'a' ? a : b).plan = (p) => (p === 'hold' ? slow(p) : quick(p));
    const hold = chat(j.url, { session: 'hold', model: 'wide', prompt: 'hold' });
    await hold.firstToken();
    for (let i = 1; i <= 3; i++) {
      await ask('keep', 'wide', `k${i}`);
      expect(servedBy(`k${i}`)).toBe(home);
    }
    await postJson(`${j.url}/v1/sessions/hold/stop`, {});
    await hold.finished;
    a.plan = b.plan = quick;
  });

  it('is given up while its server is saturated: the next prompt goes to the other, and stays there', async () => {
    await ask('sat', 'tight', 't0');
    expect(servedBy('t0')).toBe('c');
    // Another stream takes c's only slot.
    c.plan = (p) => (p === 'hog' ? slow(p) : quick(p));
    const hog = chat(j.url, { session: 'hog', model: 'tight', prompt: 'hog' });
    await hog.firstToken();
    expect(servedBy('hog')).toBe('c');
    await ask('sat', 'tight', 't1');
    expect(servedBy('t1')).toBe('d');
    const moved = events(j.logFile, 'upstream_routed').filter((l) => l.fields.upstream === 'd' && l.fields.affinity === 'moved');
    expect(moved.length).toBe(1);
    // d answered it last: the session is d's now, even once c has room again.
    await postJson(`${j.url}/v1/sessions/hog/stop`, {});
    await hog.finished;
    await ask('sat', 'tight', 't2');
    expect(servedBy('t2')).toBe('d');
    c.plan = quick;
  });

  it('is given up when its server dies: the next prompt goes to the other, with no error', async () => {
    await ask('die', 'tight', 'd0');
    expect(servedBy('d0')).toBe('c');
    const port = Number(new URL(c.url).port);
    await c.stop();
    await ask('die', 'tight', 'd1');
    expect(servedBy('d1')).toBe('d');
    await ask('die', 'tight', 'd2');
    expect(servedBy('d2')).toBe('d');
    await waitForLog(j.logFile, 'upstream_down', { upstream: 'c' });
    // c back on its port: a probe finds it, and the session stays where it was answered last.
    await c.start(port);
    await waitForLog(j.logFile, 'upstream_up', { upstream: 'c' });
    await ask('die', 'tight', 'd3');
    expect(servedBy('d3')).toBe('d');
  });
});
