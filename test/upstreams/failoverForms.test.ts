import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat } from '../helpers/chatClient.js';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { FakeOpenAI } from '../helpers/fakes/fakeOpenAI.js';
import type { FakePlan, FakeUpstream } from '../helpers/fakes/fakeUpstream.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, waitForLog } from '../helpers/log.js';

// Failover before the first token, form by form (docs/upstreams.md "Health and failover"): x
// and y serve `m` (x first, so an idle x takes each request); p and q, OpenAI-compatible, serve
// `om` (p first). Each failure of x (p) hands the request to y (q) with no error shown; the failing
// server is used again once a probe finds it up. A 4xx is about the request: no other server is
// tried. After the first token never, whatever the kind.

let x: FakeOllama;
let y: FakeOllama;
let p: FakeOpenAI;
let q: FakeOpenAI;
let j: TestJarvis;

const quick = (prompt: string): FakePlan => ({ tokens: [`${prompt} `, 'ok'], tokenMs: 1 });

beforeAll(async () => {
  [x, y] = await Promise.all([new FakeOllama().start(), new FakeOllama().start()]);
  [p, q] = await Promise.all([new FakeOpenAI().start(), new FakeOpenAI().start()]);
  x.models = y.models = ['m:latest'];
  p.models = q.models = ['om'];
  for (const f of [x, y, p, q]) f.plan = quick;
  j = await startTestJarvis(
    // The default probe interval (5 s): x stopped is found by the request, not by a probe first.
    // A server that is down is asked again once its back-off (1 s) has passed, within a second.
    { JARVIS_UPSTREAMS: `x=ollama:${x.url},y=ollama:${y.url},p=openai:${p.url}/v1,q=openai:${q.url}/v1` },
    { fake: false },
  );
});
afterAll(async () => {
  await j?.close();
  for (const f of [x, y, p, q]) await f?.stop();
});

const prompts = (f: FakeUpstream) => f.requests.map((r) => r.prompt);

/** Waits until the server has come back up `times` times in all (a probe after its back-off). */
async function upAgain(name: string, times: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (events(j.logFile, 'upstream_up', { upstream: name }).length < times) {
    if (Date.now() > deadline) throw new Error(`${name} not up again within 10 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends `prompt` to `model`: the answer is the other server's, whole, with no error. Returns the stream's trace. */
async function answeredElsewhere(model: string, prompt: string, failing: FakeUpstream, other: FakeUpstream): Promise<string> {
  const call = chat(j.url, { session: `s-${prompt}`, model, prompt });
  await call.finished;
  expect(call.terminal, prompt).toMatchObject({ type: 'done' });
  expect(call.text).toBe(`${prompt} ok`);
  expect(prompts(other)).toContain(prompt);
  expect(failing.requests.filter((r) => r.prompt === prompt).every((r) => r.tokensSent === 0)).toBe(true);
  return call.streamId;
}

/** A server of the test and the one a request it fails goes to instead. */
interface Pair {
  name: 'x' | 'p';
  fake: () => FakeUpstream;
  other: () => FakeUpstream;
  model: string;
}
const X: Pair = { name: 'x', fake: () => x, other: () => y, model: 'm' };
const P: Pair = { name: 'p', fake: () => p, other: () => q, model: 'om' };
/** Times each has been marked down so far (each form marks its server down once). */
const downs = { x: 0, p: 0 };

/** The failing server is up again (a probe after its back-off) and, idle and first, takes a request again. */
async function usedAgain(pair: Pair, tag: string): Promise<void> {
  await upAgain(pair.name, downs[pair.name]);
  const back = chat(j.url, { session: `back-${tag}`, model: pair.model, prompt: `back-${tag}` });
  await back.finished;
  expect(back.terminal).toMatchObject({ type: 'done' });
  expect(prompts(pair.fake())).toContain(`back-${tag}`);
}

describe('failover before the first token', () => {
  let port = 0;
  const failWith = (extra: Partial<FakePlan>) => (prompt: string) => ({ ...quick(prompt), ...extra });
  // The forms alternate between an Ollama pair and an OpenAI-compatible pair, so that each server has
  // had its back-off (1 s) by the time its next form needs it up.
  const forms: Array<{ form: string; pair: Pair; code: string; stage: () => Promise<void> | void; unstage: () => Promise<void> | void }> = [
    {
      form: 'connection refused',
      pair: X,
      code: 'upstream_unavailable',
      stage: async () => {
        port = Number(new URL(x.url).port);
        await x.stop();
      },
      unstage: () => x.start(port).then(() => {}),
    },
    ...[500, 502, 503].map((status, i) => {
      const pair = i % 2 === 0 ? P : X;
      return {
        form: `HTTP ${status} (${pair.name === 'x' ? 'Ollama' : 'OpenAI-compatible'})`,
        pair,
        code: 'upstream_error',
        stage: () => void (pair.fake().plan = failWith({ fault: 'http_error', httpStatus: status, errorMessage: 'model runner crashed' })),
        unstage: () => void (pair.fake().plan = quick),
      };
    }),
    ...[X, P].map((pair) => ({
      form: `a reply cut before its first token (${pair.name === 'x' ? 'Ollama' : 'OpenAI-compatible'})`,
      pair,
      code: 'upstream_error',
      stage: () => void (pair.fake().plan = failWith({ fault: 'fail_mid', faultAfter: 0 })),
      unstage: () => void (pair.fake().plan = quick),
    })),
  ];

  forms.forEach(({ form, pair, code, stage, unstage }, i) => {
    it(`${form}: the next server answers; the failing one is marked down, and used again once a probe finds it up`, async () => {
      if (downs[pair.name] > 0) await usedAgain(pair, String(i));
      await stage();
      const prompt = `form${i}`;
      const trace = await answeredElsewhere(pair.model, prompt, pair.fake(), pair.other());
      // The log is written in order, asynchronously: once the stream_end is in, the rest is.
      const otherName = pair.name === 'x' ? 'y' : 'q';
      expect((await waitForLog(j.logFile, 'stream_end', { trace })).fields).toMatchObject({ reason: 'done', upstream: otherName });
      expect(events(j.logFile, 'upstream_failover', { trace }).map((l) => l.fields)).toEqual([expect.objectContaining({ from: pair.name, code, attempt: '1' })]);
      expect(events(j.logFile, 'upstream_routed', { trace }).map((l) => l.fields.upstream)).toEqual([pair.name, otherName]);
      expect(events(j.logFile, 'upstream_down', { upstream: pair.name }).length).toBe(++downs[pair.name]);
      await unstage();
    });
  });

  it('a server that no longer has the model: the next one answers, and x is not marked down', async () => {
    await usedAgain(X, 'deleted');
    // As Ollama answers for a model deleted since its list was read.
    x.plan = (prompt) => ({ ...quick(prompt), fault: 'http_error', httpStatus: 404, errorMessage: "model 'm' not found" });
    const trace = await answeredElsewhere('m', 'deleted', x, y);
    await waitForLog(j.logFile, 'stream_end', { trace });
    expect(events(j.logFile, 'upstream_failover', { trace }).map((l) => l.fields)).toEqual([expect.objectContaining({ from: 'x', code: 'model_not_found' })]);
    expect(events(j.logFile, 'upstream_down', { upstream: 'x' }).length).toBe(downs.x);
    x.plan = quick;
  });

  it('a 4xx is about the request: no other server is tried, x stays up, the client gets the 4xx', async () => {
    x.plan = (prompt) => ({ ...quick(prompt), fault: 'http_error', httpStatus: 400, errorMessage: 'the prompt is longer than the context (8192 tokens)' });
    const call = chat(j.url, { session: 's-4xx', model: 'm', prompt: 'too-long' });
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'error', code: 'upstream_rejected' });
    expect((call.terminal as { message: string }).message).toMatch(/longer than the context.*\(model server x\)$/);
    expect(prompts(y)).not.toContain('too-long');
    const trace = await call.streamId;
    await waitForLog(j.logFile, 'stream_end', { trace });
    expect(events(j.logFile, 'upstream_error', { trace }).map((l) => l.fields.upstream)).toEqual(['x']);
    expect(events(j.logFile, 'upstream_failover', { trace })).toEqual([]);
    expect(events(j.logFile, 'upstream_down', { upstream: 'x' }).length).toBe(downs.x);
    x.plan = quick;
  });
});

describe('never after the first token', () => {
  it('an OpenAI-compatible server killed mid-answer: the answer ends with an error naming it, nothing of q in it', async () => {
    await usedAgain(P, 'mid'); // down since its last form above
    p.plan = (prompt) => ({ tokens: Array.from({ length: 1000 }, (_, i) => `P${prompt}${i} `), tokenMs: 5 });
    q.plan = (prompt) => ({ tokens: [`Q${prompt} `], tokenMs: 1 });
    const running = chat(j.url, { session: 'mid', model: 'om', prompt: 'm' });
    await running.waitFor((e) => e.type === 'token' && (e as { seq: number }).seq >= 3);
    await p.stop();
    await running.finished;
    expect(running.terminal).toMatchObject({ type: 'error', code: 'upstream_error' });
    expect((running.terminal as { message: string }).message).toMatch(/stopped answering mid-reply.*\(model server p\)$/);
    expect(running.text.startsWith('Pm0 Pm1 Pm2 ')).toBe(true);
    expect(running.text).not.toContain('Q');
    expect(prompts(q)).not.toContain('m');
    const trace = await running.streamId;
    expect((await waitForLog(j.logFile, 'stream_end', { trace })).fields).toMatchObject({ reason: 'error', upstream: 'p' });
    expect(events(j.logFile, 'upstream_failover', { trace })).toEqual([]);
    // The session's next prompt goes to q, with no error shown.
    const next = chat(j.url, { session: 'mid', model: 'om', prompt: 'n' });
    await next.finished;
    expect(next.terminal).toMatchObject({ type: 'done' });
    expect(next.text).toBe('Qn ');
  });
});

describe('bounded tries', () => {
  it('JARVIS_UPSTREAM_TRIES=2 with three failing servers: two are tried, and the error names them', async () => {
    const fakes = await Promise.all([1, 2, 3].map(() => new FakeOllama().start()));
    for (const f of fakes) {
      f.models = ['t:latest'];
      f.plan = (prompt) => ({ ...quick(prompt), fault: 'http_500' });
    }
    const k = await startTestJarvis({ JARVIS_UPSTREAMS: fakes.map((f, i) => `t${i + 1}=ollama:${f.url}`).join(','), JARVIS_UPSTREAM_TRIES: '2' }, { fake: false });
    try {
      const call = chat(k.url, { session: 'tries', model: 't', prompt: 'x' });
      await call.finished;
      expect(call.terminal).toMatchObject({ type: 'error', code: 'upstream_error' });
      expect((call.terminal as { message: string }).message).toMatch(/tried t1, t2\)/);
      expect(fakes.map((f) => f.requests.length)).toEqual([1, 1, 0]);
      const trace = await call.streamId;
      await waitForLog(k.logFile, 'stream_end', { trace });
      // Each failed try is logged, the last one too.
      expect(events(k.logFile, 'upstream_failover', { trace }).map((l) => l.fields.from)).toEqual(['t1', 't2']);
    } finally {
      await k.close();
      for (const f of fakes) await f.stop();
    }
  });
});
