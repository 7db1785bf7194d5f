import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakePlan, UpstreamRecord } from '../helpers/fakes/fakeOllama.js';
import { attach, call, chat, instanceOf, startCluster, type TestCluster } from '../helpers/cluster/cluster.js';
import { clusterLog, expectOneGeneratorAtATime, expectOneTerminal, expectOwnTokens } from '../helpers/cluster/clusterChecks.js';
import { haproxyUnavailable, startHaproxy, type TestBalancer } from '../helpers/services/haproxy.js';
import { events, waitForLog } from '../helpers/log.js';
import { postgresUnavailable } from '../helpers/services/postgres.js';
import { redisUnavailable } from '../helpers/services/redis.js';
import { checkSchedules, withTimeout } from '../helpers/scenarios/schedules.js';
import type { StreamReader } from '../helpers/streamReader.js';

// Three instances behind the real load balancer (Debian's haproxy with deploy/haproxy.cfg,
// round robin), as users run them (docs/clusters.md): the `jarvis matrix` cases with each prompt of a
// session landing on another instance than the one before; then random schedules of
// prompts, stops, drops and resumes spread over the instances and the balancer.

const skip = redisUnavailable() ?? postgresUnavailable() ?? haproxyUnavailable();
let c: TestCluster;
let lb: TestBalancer;
let n = 0;
const session = (name: string) => `lb-${name}-${process.pid}-${n++}`;

/** `long…` prompts run for 15 s (something to interrupt); others are 8 tokens; schedules' prompts name their plan. */
function plan(prompt: string): FakePlan {
  if (prompt.includes('|')) return schedulePlan(prompt);
  return { tokens: Array.from({ length: prompt.startsWith('long') ? 3000 : 8 }, (_, i) => `${prompt}#${i} `), tokenMs: 5 };
}

const upstream = (prompt: string): Promise<UpstreamRecord> => c.fake.waitForRequest((r) => r.prompt === prompt);
const logOf = (instance: string) => c.instances.find((p) => p.logFile && events(p.logFile, 'cluster_mode').some((l) => l.fields.instance === instance))!.logFile;

describe.skipIf(skip)('cluster behind haproxy', () => {
  beforeAll(async () => {
    c = await startCluster(3);
    c.fake.plan = plan;
    lb = await startHaproxy(c.instances.map((p) => p.url));
  }, 90_000);
  afterAll(async () => {
    await lb?.stop();
    await c?.stop();
  });

  describe('the matrix across instances', () => {
    it('haproxy spreads requests over the three instances, round robin', async () => {
      const seen: string[] = [];
      for (let i = 0; i < 6; i++) seen.push((await call(lb.url, 'GET', '/health')).body.cluster.instance);
      expect(new Set(seen.slice(0, 3)).size).toBe(3);
      expect(seen.slice(3)).toEqual(seen.slice(0, 3));
    });

    it('Baseline: tokens stream, then one done', async () => {
      const s = session('base');
      const a = chat(lb.url, s, 'base-A');
      await a.finished;
      expect(a.status).toBe(200);
      expectOwnTokens(a, 'base-A');
      expect(a.tokens).toHaveLength(8);
      expect(expectOneTerminal(a, 'A')).toMatchObject({ type: 'done' });
    });

    it('Stop: a stop that lands on another instance cancels A and closes its upstream', async () => {
      const s = session('stop');
      const a = chat(lb.url, s, 'long-stop');
      await a.tokensReached(3);
      const up = await upstream('long-stop');
      // The stop goes to an instance that does not run A (round robin would pick one, unless
      // haproxy's health checks, slow on a loaded machine, took a server out of the rotation).
      const owner = await instanceOf(c, a.streamId!);
      const other = c.instances.find((p) => p.logFile !== logOf(owner))!;
      const stop = await call(other.url, 'POST', `/v1/sessions/${s}/stop`);
      expect(stop.body).toMatchObject({ stopped: true });
      await a.finished;
      expect(expectOneTerminal(a, 'A')).toMatchObject({ type: 'cancelled', reason: 'stopped' });
      expectOwnTokens(a, 'long-stop');
      await up.closed;
      expect(up.aborted).toBe(true);
      // The other instance signalled the owner (its log line may be written just after its answer).
      const sentLine = () => clusterLog(c).find((l) => l.event === 'session_stop_sent' && l.fields.session === s);
      await expect.poll(sentLine, { timeout: 10_000, interval: 50 }).toBeDefined();
      const sent = sentLine();
      expect(sent?.fields).toMatchObject({ trace: a.streamId, to_instance: owner });
      expect(sent?.fields.instance).not.toBe(owner);
    });

    it('Rapid: A on one instance, B 50 ms later on another: A superseded and its upstream closed before B’s opens, B done with only its own tokens', async () => {
      const s = session('rapid');
      const a = chat(lb.url, s, 'long-rapid-A');
      await a.tokensReached(1);
      await new Promise((r) => setTimeout(r, 50)); // the matrix's "50 ms later"
      const b = chat(lb.url, s, 'rapid-B');
      await Promise.all([a.finished, b.finished]);
      const [ia, ib] = await Promise.all([instanceOf(c, a.streamId!), instanceOf(c, b.streamId!)]);
      expect(ia).not.toBe(ib);

      expect(expectOneTerminal(a, 'A')).toMatchObject({ type: 'cancelled', reason: 'superseded' });
      expect(expectOneTerminal(b, 'B')).toMatchObject({ type: 'done' });
      expectOwnTokens(a, 'long-rapid-A');
      expectOwnTokens(b, 'rapid-B');
      expect(b.tokens).toHaveLength(8);
      const [upA, upB] = await Promise.all([upstream('long-rapid-A'), upstream('rapid-B')]);
      await expectOneGeneratorAtATime([upA, upB]);
      expect(upA.aborted).toBe(true);
      const waited = await waitForLog(logOf(ib), 'prev_stream_finished_cleanly', { new_trace: b.streamId! });
      expect(waited.fields).toMatchObject({ trace: a.streamId, prev_instance: ia, instance: ib });
    });

    it('Stress: A–E one right after another, each on the next instance: A–D superseded, E done, one generator at a time', async () => {
      const s = session('stress');
      const prompts = ['A', 'B', 'C', 'D', 'E'].map((x) => `${x === 'E' ? '' : 'long-'}${s}-${x}`);
      const last = prompts[4]!;
      const readers: StreamReader[] = [];
      for (const p of prompts) {
        // Each once the previous one has its status event (it holds the session): rapid, in a known order.
        if (readers.length > 0) await readers.at(-1)!.waitFor((e) => e.type === 'status');
        readers.push(chat(lb.url, s, p));
      }
      await Promise.all(readers.map((r) => r.finished));
      const where = await Promise.all(readers.map((r) => instanceOf(c, r.streamId!)));
      for (let i = 1; i < where.length; i++) expect(where[i], `${prompts[i]} on the instance of ${prompts[i - 1]}`).not.toBe(where[i - 1]);

      const ids = readers.map((r) => r.streamId!);
      const why = () => JSON.stringify({ where, ids, log: clusterLog(c).filter((l) => l.fields.session === s).map((l) => `${l.fields.instance} ${l.event} ${l.fields.trace ?? ''} ${l.fields.new_trace ?? ''} ${l.fields.reason ?? ''}`) }, null, 1);
      readers.forEach((r, i) => {
        if (r.terminal?.type !== (i < 4 ? 'cancelled' : 'done')) console.error(why());
        const terminal = expectOneTerminal(r, prompts[i]!);
        expect(terminal).toMatchObject(i < 4 ? { type: 'cancelled', reason: 'superseded' } : { type: 'done' });
        expectOwnTokens(r, prompts[i]!);
      });
      expect(readers[4]!.tokens).toHaveLength(8);
      // Those superseded before they reached the model never opened an upstream request.
      const ups = c.fake.requests.filter((r) => prompts.includes(r.prompt));
      expect(ups.map((u) => u.prompt)).toContain(last);
      await expectOneGeneratorAtATime(ups);
      for (const u of ups.filter((u) => u.prompt !== last)) expect(u.aborted, `${u.prompt}'s upstream closed by Jarvis`).toBe(true);
      // Every supersede waited for its predecessor cleanly, across instances.
      const log = clusterLog(c);
      expect(log.filter((l) => l.event === 'prev_stream_timeout_on_cancel' && l.fields.session === s)).toEqual([]);
      for (const l of log.filter((l) => l.event === 'stream_start' && l.fields.session === s)) expect(ids).toContain(l.fields.trace);
      // (stream_end is logged once the stream's upstream is closed, after its reader had the terminal.)
      for (const id of ids) await waitForLog(logOf(where[ids.indexOf(id)]!), 'stream_end', { trace: id });
      for (const id of ids) expect(clusterLog(c).filter((l) => l.event === 'stream_end' && l.fields.trace === id), `stream_end of ${id}`).toHaveLength(1);
    });

    it('Multi: two sessions at once on two instances both stream to done, neither waits', async () => {
      const s1 = session('multi1');
      const s2 = session('multi2');
      const a = chat(lb.url, s1, 'long-multi-A');
      const b = chat(lb.url, s2, 'multi-B');
      await b.finished;
      await a.tokensReached(20);
      await call(lb.url, 'POST', `/v1/sessions/${s1}/stop`);
      await a.finished;
      expect(await instanceOf(c, a.streamId!)).not.toBe(await instanceOf(c, b.streamId!));
      expect(expectOneTerminal(b, 'B')).toMatchObject({ type: 'done' });
      expect(expectOneTerminal(a, 'A')).toMatchObject({ type: 'cancelled', reason: 'stopped' });
      expectOwnTokens(a, 'long-multi-A');
      expectOwnTokens(b, 'multi-B');
      const waits = clusterLog(c).filter((l) => l.event.startsWith('prev_stream_') && (l.fields.session === s1 || l.fields.session === s2));
      expect(waits).toEqual([]);
    });
  });

  describe('random schedules across instances', () => {
    it('keep the session rules over random prompts, stops, drops and resumes on three instances and the balancer', async () => {
      await checkSchedules(opArb, runSchedule, { maxLength: 12, runs: 40, seed: 20261126 });
    }, 180_000);
  });
});

// ---- random schedules ----

const PLANS = ['normal', 'slow', 'fail', 'http500'] as const;
type PlanKind = (typeof PLANS)[number];

/** `via`: 0–2 an instance directly, 3 the balancer. */
type Op =
  | { kind: 'start'; session: number; via: number; plan: PlanKind }
  | { kind: 'stop'; session: number; via: number }
  | { kind: 'disconnect'; which: number }
  | { kind: 'follow'; which: number; via: number }
  | { kind: 'reattach'; which: number; via: number }
  | { kind: 'wait'; ms: number };

const via = fc.integer({ min: 0, max: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('start' as const), session: fc.integer({ min: 0, max: 2 }), via, plan: fc.constantFrom(...PLANS) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stop' as const), session: fc.integer({ min: 0, max: 2 }), via }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('disconnect' as const), which: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('follow' as const), which: fc.nat(), via }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reattach' as const), which: fc.nat(), via }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 30 }) }) },
);

function schedulePlan(prompt: string): FakePlan {
  const kind = prompt.split('|')[1] as PlanKind;
  const tokens = (n: number) => Array.from({ length: n }, (_, i) => `${prompt}#${i} `);
  switch (kind) {
    case 'normal':
      return { tokens: tokens(6), tokenMs: 3 };
    case 'slow':
      return { tokens: tokens(60), tokenMs: 4 };
    case 'fail':
      return { tokens: tokens(10), tokenMs: 3, fault: 'fail_mid', faultAfter: 3 };
    case 'http500':
      return { tokens: [], tokenMs: 1, fault: 'http_500' };
  }
}

interface Prompt {
  reader: StreamReader;
  prompt: string;
  session: string;
  disconnected: boolean;
}

interface Follower {
  reader: StreamReader;
  of: Prompt;
  after: number;
  dropped: boolean;
}

let run = 0;

async function runSchedule(ops: Op[]): Promise<void> {
  const id = `cr${process.pid}-${run++}`;
  const session = (k: number) => `${id}-s${k}`;
  const url = (v: number) => (v === 3 ? lb.url : c.instances[v]!.url);
  const prompts: Prompt[] = [];
  const followers: Follower[] = [];
  const stops: Array<Promise<{ status: number }>> = [];

  for (const op of ops) {
    if (op.kind === 'start') {
      const prompt = `${id}.${prompts.length}|${op.plan}`;
      prompts.push({ reader: chat(url(op.via), session(op.session), prompt), prompt, session: session(op.session), disconnected: false });
    } else if (op.kind === 'stop') {
      stops.push(call(url(op.via), 'POST', `/v1/sessions/${session(op.session)}/stop`));
    } else if (op.kind === 'disconnect' && prompts.length > 0) {
      // /v1/chat/completions: the client gone is a stop of its stream.
      const p = prompts[op.which % prompts.length]!;
      p.disconnected = true;
      p.reader.abort();
    } else if (op.kind === 'follow' && prompts.length > 0) {
      // Another reader, on any instance, from where the prompt's own reader is.
      const p = prompts[op.which % prompts.length]!;
      if (!p.reader.streamId) continue;
      const after = p.reader.lastSeq;
      followers.push({ reader: attach(url(op.via), p.reader.streamId, after), of: p, after, dropped: false });
    } else if (op.kind === 'reattach') {
      // A follower drops and resumes after the last seq it got, on any instance.
      const live = followers.filter((f) => !f.dropped);
      if (live.length === 0) continue;
      const f = live[op.which % live.length]!;
      f.dropped = true;
      f.reader.abort();
      // What it already received may still be handed on after abort(): resume from the last it got (docs/conversations.md).
      await f.reader.finished;
      const after = f.after + f.reader.tokens.length;
      followers.push({ reader: attach(url(op.via), f.of.reader.streamId!, after), of: f.of, after, dropped: false });
    } else if (op.kind === 'wait') {
      await new Promise((r) => setTimeout(r, op.ms));
    }
  }
  const describe = () =>
    JSON.stringify({
      prompts: prompts.filter((p) => !p.reader.terminal).map((p) => ({ prompt: p.prompt, events: p.reader.events.map((e) => e.type) })),
      followers: followers.filter((f) => !f.reader.terminal && !f.dropped).map((f) => ({ of: f.of.prompt, after: f.after, status: f.reader.status, events: f.reader.events.map((e) => e.type) })),
    });
  await withTimeout(Promise.all([...prompts, ...followers].map((r) => r.reader.finished)), 15_000, () => `readers still open: ${describe()}`);
  for (const s of await Promise.all(stops)) expect(s.status).toBe(200);

  for (const p of prompts) {
    // Never a token of another stream; seqs from 0, each once.
    expectOwnTokens(p.reader, p.prompt);
    if (p.disconnected) continue;
    expect(p.reader.events[0]?.type, p.prompt).toBe('status');
    expectOneTerminal(p.reader, p.prompt);
  }
  for (const f of followers) {
    // A resume continues at exactly after + 1, with the stream's own tokens.
    expectOwnTokens(f.reader, f.of.prompt, f.after + 1);
    // (A reader dropped before its answer came has no status.)
    if (f.dropped) continue;
    expect(f.reader.status, `reader of ${f.of.prompt} after ${f.after}`).toBe(200);
    const terminal = expectOneTerminal(f.reader, `reader of ${f.of.prompt} after ${f.after}`);
    if (!f.of.disconnected) expect(terminal, `reader of ${f.of.prompt}: the same end as its prompt's`).toEqual(f.of.reader.terminal);
  }

  // One stream_start and one stream_end per stream, across the instances (the log is written asynchronously).
  const ids = prompts.map((p) => p.reader.streamId).filter((x): x is string => x !== null);
  const unbalanced = () => {
    const lines = clusterLog(c).filter((l) => l.fields.session?.startsWith(`${id}-`));
    const count = (event: string, trace: string) => lines.filter((l) => l.event === event && l.fields.trace === trace).length;
    const starts = lines.filter((l) => l.event === 'stream_start').map((l) => l.fields.trace!);
    return [...new Set([...starts, ...ids])].filter((t) => count('stream_start', t) !== 1 || count('stream_end', t) !== 1);
  };
  await expect.poll(unbalanced, { timeout: 10_000, interval: 20 }).toEqual([]);

  // At any instant at most one upstream request per session generates, by the fake's own record,
  // except after a supersede that hit the cancel timeout (the documented way out).
  const log = clusterLog(c);
  const streamOf = new Map(prompts.map((p) => [p.prompt, p.reader.streamId]));
  const timedOut = new Set(log.filter((l) => l.event === 'prev_stream_timeout_on_cancel' && l.fields.session?.startsWith(`${id}-`)).map((l) => l.fields.trace));
  for (let k = 0; k < 3; k++) {
    const mine = new Set(prompts.filter((p) => p.session === session(k)).map((p) => p.prompt));
    const ups = c.fake.requests.filter((r) => mine.has(r.prompt));
    await withTimeout(expectOneGeneratorAtATime(ups, (prev) => timedOut.has(streamOf.get(prev.prompt) ?? '')), 10_000, () => 'an upstream request was never closed');
  }
}
