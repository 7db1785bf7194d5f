import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat, postJson, type ChatCall } from '../helpers/chatClient.js';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import type { FakeUpstream } from '../helpers/fakes/fakeUpstream.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';
import { FairOrder, seeded, untilTrue } from './fairOrder.js';

// The queue under a random schedule, over HTTP (docs/upstreams.md "Queues"): two servers of one
// stream each, two API keys, a seeded schedule of arrivals, Stops of running streams (which free a
// slot), Stops of queued ones and clients of queued ones going away. After every step:
//   - the streams the fakes are answering are exactly those the fair rule granted (FairOrder, the
//     rule as docs/upstreams.md states it), so the grants follow it;
//   - every waiting stream's last `queued` status gives its place in that order (1 is next);
// and at the end, from the fakes' own records: no fake ever had two requests at once, and no
// stream stopped while queued ever reached a fake.

const ALICE = 'alice-key-0123456789abcdef';
const BOB = 'bob-key-0123456789abcdefgh';
const KEYS: Record<string, string> = { alice: ALICE, bob: BOB };

let s1: FakeOllama;
let s2: FakeOllama;
let j: TestJarvis;

beforeAll(async () => {
  [s1, s2] = await Promise.all([new FakeOllama().start(), new FakeOllama().start()]);
  s1.models = s2.models = ['q:latest'];
  // Held open until stopped: a slot frees only when the schedule says so.
  s1.plan = s2.plan = (prompt) => ({ tokens: Array.from({ length: 5000 }, (_, i) => `${prompt}.${i} `), tokenMs: 20 });
  j = await startTestJarvis(
    { JARVIS_API_KEYS: `alice:${ALICE},bob:${BOB}`, JARVIS_UPSTREAMS: `s1=ollama:${s1.url};max_parallel=1,s2=ollama:${s2.url};max_parallel=1` },
    { fake: false },
  );
});
afterAll(async () => {
  await j?.close();
  for (const f of [s1, s2]) await f?.stop();
});

interface Live {
  prompt: string;
  key: string;
  call: ChatCall;
  state: 'queued' | 'running' | 'stopped';
  /** Stopped while it waited. */
  stoppedQueued?: boolean;
}

const atFakes = () => new Set([...s1.requests, ...s2.requests].map((r) => r.prompt));

/** The position the stream's last `queued` status gave. */
function lastPosition(call: ChatCall): number | undefined {
  const queued = call.events.filter((e) => e.type === 'status' && (e as { status: string }).status === 'queued');
  return (queued.at(-1) as { position?: number } | undefined)?.position;
}

async function stop(live: Live): Promise<void> {
  const res = await postJson(`${j.url}/v1/sessions/${live.prompt}/stop`, {}, { authorization: `Bearer ${KEYS[live.key]}` });
  expect(res.status, `stop ${live.prompt}`).toBe(200);
  await live.call.finished;
  expect(live.call.terminal, live.prompt).toMatchObject({ type: 'cancelled', reason: 'stopped' });
  // A waiter's Stop is confirmed at once: no server had its work.
  if (live.state === 'queued') expect(res.body.engine).toMatchObject({ verdict: 'confirmed', how: 'not_started', ms: 0 });
}

/** No two requests of one fake were open at once (from its own records: arrival to Jarvis closing it). */
function maxAtOnce(fake: FakeUpstream): number {
  const edges = fake.requests.flatMap((r) => [
    { at: r.receivedAt, d: 1 },
    { at: r.clientGoneAt ?? r.closedAt ?? Infinity, d: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let open = 0;
  let most = 0;
  for (const e of edges) most = Math.max(most, (open += e.d));
  return most;
}

describe('the fair queue under a random schedule', () => {
  it('grants in the fair order, tells each waiter its place, never exceeds max_parallel, and never sends a stopped waiter', { timeout: 30_000 }, async () => {
    const random = seeded(24);
    const order = new FairOrder();
    const all: Live[] = [];
    const running = () => all.filter((l) => l.state === 'running');
    const waiting = () => all.filter((l) => l.state === 'queued');
    let n = 0;
    /** Steps after which the fair order was not the order of arrival (a bob request ahead of earlier alice ones). */
    let unlikeFifo = 0;
    const removals = { stopped: 0, left: 0 };

    /** Waits until the fakes answer exactly the running streams, and each waiter shows its place. */
    const settled = async (step: string) => {
      const expected = new Set(all.filter((l) => l.state !== 'queued' && !l.stoppedQueued).map((l) => l.prompt));
      await untilTrue(() => atFakes().size === expected.size && [...expected].every((p) => atFakes().has(p)), () => `${step}: fakes have ${[...atFakes()].join(',')}, expected ${[...expected].join(',')}`);
      const places = order.order();
      const byArrival = [...places].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
      if (places.some((id, i) => id !== byArrival[i])) unlikeFifo++;
      await untilTrue(
        () => places.every((id, i) => lastPosition(all.find((l) => l.prompt === id)!.call) === i + 1),
        () => `${step}: places ${places.map((id) => `${id}@${lastPosition(all.find((l) => l.prompt === id)!.call)}`).join(' ')}, expected in that order`,
      );
    };

    for (let step = 0; step < 60; step++) {
      const roll = random();
      if (roll < 0.6 || running().length < 2) {
        // A burst-prone key and a quiet one: alice sends three times as often.
        const key = random() < 0.75 ? 'alice' : 'bob';
        const prompt = `p${++n}`;
        const call = chat(j.url, { session: prompt, model: 'q', prompt, headers: { authorization: `Bearer ${KEYS[key]}` } });
        const live: Live = { prompt, key, call, state: running().length < 2 && waiting().length === 0 ? 'running' : 'queued' };
        all.push(live);
        if (live.state === 'queued') {
          order.push(prompt, key);
          await call.waitFor((e) => e.type === 'status' && (e as { status: string }).status === 'queued');
        }
        await settled(`step ${step}: ${key} sends ${prompt}`);
      } else if (roll < 0.85 || waiting().length === 0) {
        // A running stream is stopped: its slot goes to the first waiter in fair order.
        const done = running()[Math.floor(random() * running().length)]!;
        await stop(done);
        done.state = 'stopped';
        const next = order.grant();
        if (next) all.find((l) => l.prompt === next)!.state = 'running';
        await settled(`step ${step}: ${done.prompt} stopped, ${next ?? 'nobody'} granted`);
      } else {
        // A waiter is stopped, or its client goes away: it leaves the queue; no request is ever sent for it.
        const gone = waiting()[Math.floor(random() * waiting().length)]!;
        const how = random() < 0.5 ? 'stopped' : 'left';
        removals[how]++;
        if (how === 'stopped') await stop(gone);
        else {
          const trace = await gone.call.streamId;
          gone.call.abort();
          // Its stream_end is written once it has left the queue.
          expect((await waitForLog(j.logFile, 'stream_end', { trace })).fields).toMatchObject({ reason: 'client_closed', cancel: 'confirmed', cancel_how: 'not_started' });
        }
        gone.state = 'stopped';
        gone.stoppedQueued = true;
        order.remove(gone.prompt);
        await settled(`step ${step}: ${gone.prompt} ${how} while queued`);
      }
    }
    expect(removals.stopped).toBeGreaterThan(0);
    expect(removals.left).toBeGreaterThan(0);
    expect(Math.max(...all.map((l) => lastPosition(l.call) ?? 0))).toBeGreaterThan(2);
    expect(unlikeFifo).toBeGreaterThan(0);
    // Everything left: the waiters first (so no stopped slot hands one on), then the running ones.
    for (const live of [...waiting(), ...running()]) {
      if (live.state === 'queued') order.remove(live.prompt);
      live.stoppedQueued = live.state === 'queued';
      await stop(live);
      live.state = 'stopped';
    }
    const sent = atFakes();
    expect(all.filter((l) => l.stoppedQueued && sent.has(l.prompt)).map((l) => l.prompt)).toEqual([]);
    expect([maxAtOnce(s1), maxAtOnce(s2)]).toEqual([1, 1]);
  });
});

describe('servers dying while streams wait', () => {
  it('the waiters keep their places and are never sent to a server known down; with every server down they end at once', async () => {
    const auth = { authorization: `Bearer ${ALICE}` };
    const open = (prompt: string) => chat(j.url, { session: prompt, model: 'q', prompt, headers: auth });
    const [r1, r2] = [open('r1'), open('r2')];
    await Promise.all([r1.firstToken(), r2.firstToken()]);
    const onS1 = s1.requests.some((r) => r.prompt === 'r1') ? r1 : r2;
    const [dying, living] = onS1 === r1 ? [s1, s2] : [s2, s1];
    const waiters = ['w1', 'w2', 'w3'].map(open);
    for (const [i, w] of waiters.entries()) await untilTrue(() => lastPosition(w) === i + 1, () => `w${i + 1} at ${lastPosition(w)}`);
    const dyingPort = Number(new URL(dying.url).port);
    await dying.stop();
    await onS1.finished;
    expect(onS1.terminal).toMatchObject({ type: 'error', code: 'upstream_error' });
    // The dead server's slot is free, but it is down: nobody is given it.
    await postJson(`${j.url}/v1/sessions/${onS1 === r1 ? 'r2' : 'r1'}/stop`, {}, auth);
    await waiters[0]!.firstToken();
    expect(living.requests.map((r) => r.prompt)).toContain('w1');
    for (const w of waiters.slice(1)) expect(w.events.some((e) => e.type === 'status' && (e as { status: string }).status === 'routed')).toBe(false);
    expect(waiters.slice(1).map(lastPosition)).toEqual([1, 2]);
    // Now the other one dies too: the waiters have no server left and end with an error, not after the queue's timeout.
    await living.stop();
    for (const w of waiters) await w.finished;
    expect(waiters[0]!.terminal).toMatchObject({ type: 'error', code: 'upstream_error' });
    for (const w of waiters.slice(1)) expect(w.terminal).toMatchObject({ type: 'error', code: 'upstream_unavailable' });
    await Promise.all([dying.start(dyingPort), living.start(Number(new URL(living.url).port))]);
  });
});

describe('a queued stream: its wait bounded, superseded by the session’s next prompt', () => {
  let solo: FakeOllama;
  let k: TestJarvis;
  beforeAll(async () => {
    solo = await new FakeOllama().start();
    solo.models = ['q:latest'];
    solo.plan = (prompt) => (prompt === 'hog' ? { tokens: Array.from({ length: 5000 }, (_, i) => `h${i} `), tokenMs: 20 } : { tokens: [`${prompt} `, 'ok'], tokenMs: 1 });
    k = await startTestJarvis({ JARVIS_UPSTREAMS: `solo=ollama:${solo.url};max_parallel=1`, JARVIS_UPSTREAM_QUEUE_TIMEOUT_MS: '600' }, { fake: false });
  });
  afterAll(async () => {
    await k?.close();
    await solo?.stop();
  });

  it('past JARVIS_UPSTREAM_QUEUE_TIMEOUT_MS: upstream_busy (an error event once streaming, 503 with Retry-After before), and nothing sent', async () => {
    const hog = chat(k.url, { session: 'hog', model: 'q', prompt: 'hog' });
    await hog.firstToken();
    const waiting = chat(k.url, { session: 'w1', model: 'q', prompt: 'w1' });
    await waiting.waitFor((e) => e.type === 'status' && (e as { status: string }).status === 'queued');
    const buffered = postJson(`${k.url}/v1/chat/completions`, { model: 'q', stream: false, messages: [{ role: 'user', content: 'w2' }] });
    await waiting.finished;
    expect(waiting.terminal).toMatchObject({ type: 'error', code: 'upstream_busy' });
    expect((waiting.terminal as { message: string }).message).toContain('JARVIS_UPSTREAM_QUEUE_TIMEOUT_MS=600');
    const refused = await buffered;
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(refused.body.error.code).toBe('upstream_busy');
    expect(solo.requests.map((r) => r.prompt)).toEqual(['hog']);
    await postJson(`${k.url}/v1/sessions/hog/stop`, {});
    await hog.finished;
  });

  it('a new prompt on the session of a queued stream takes its place: the first is superseded, never sent, at once', async () => {
    const hog = chat(k.url, { session: 'hog2', model: 'q', prompt: 'hog' });
    await hog.firstToken();
    const first = chat(k.url, { session: 'sup', model: 'q', prompt: 'first' });
    await first.waitFor((e) => e.type === 'status' && (e as { status: string }).status === 'queued');
    const second = chat(k.url, { session: 'sup', model: 'q', prompt: 'second' });
    await first.finished;
    expect(first.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    const trace = await first.streamId;
    expect((await waitForLog(k.logFile, 'stream_end', { trace })).fields).toMatchObject({ reason: 'superseded', cancel: 'confirmed', cancel_how: 'not_started' });
    await second.waitFor((e) => e.type === 'status' && (e as { status: string }).status === 'queued');
    expect(second.events.filter((e) => (e as { status?: string }).status === 'queued').at(-1)).toMatchObject({ position: 1 });
    await postJson(`${k.url}/v1/sessions/hog2/stop`, {});
    await second.finished;
    expect(second.terminal).toMatchObject({ type: 'done' });
    expect(second.text).toBe('second ok');
    expect(solo.requests.map((r) => r.prompt)).not.toContain('first');
    await hog.finished;
  });
});
