import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakePlan, UpstreamRecord } from './fakes/fakeOllama.js';
import { call, chat, instanceOf, startCluster, type TestCluster } from './helpers/cluster.js';
import { clusterLog, expectOneGeneratorAtATime, expectOneTerminal, expectOwnTokens } from './helpers/clusterChecks.js';
import { haproxyUnavailable, startHaproxy, type TestBalancer } from './helpers/haproxy.js';
import { events, waitForLog } from './helpers/log.js';
import { postgresUnavailable } from './helpers/postgres.js';
import { redisUnavailable } from './helpers/redis.js';
import type { StreamReader } from './helpers/streamReader.js';

// Three instances behind the real load balancer (Debian's haproxy with deploy/haproxy.cfg,
// round robin), as users run them (issue 14): the runbook's matrix with each prompt of a
// session landing on another instance than the one before.

const skip = redisUnavailable() ?? postgresUnavailable() ?? haproxyUnavailable();
let c: TestCluster;
let lb: TestBalancer;
let n = 0;
const session = (name: string) => `lb-${name}-${process.pid}-${n++}`;

/** `long…` prompts run for 15 s (something to interrupt); others are 8 tokens. */
function plan(prompt: string): FakePlan {
  return { tokens: Array.from({ length: prompt.startsWith('long') ? 3000 : 8 }, (_, i) => `${prompt}#${i} `), tokenMs: 5 };
}

const upstream = (prompt: string): Promise<UpstreamRecord> => c.fake.waitForRequest((r) => r.prompt === prompt);
const logOf = (instance: string) => c.instances.find((p) => p.logFile && events(p.logFile, 'cluster_mode').some((l) => l.fields.instance === instance))!.logFile;

describe.skipIf(skip)('cluster behind haproxy: the runbook matrix across instances', () => {
  beforeAll(async () => {
    c = await startCluster(3);
    c.fake.plan = plan;
    lb = await startHaproxy(c.instances.map((p) => p.url));
  }, 90_000);
  afterAll(async () => {
    await lb?.stop();
    await c?.stop();
  });

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
    const stop = await call(lb.url, 'POST', `/v1/sessions/${s}/stop`);
    expect(stop.body).toEqual({ stopped: true });
    await a.finished;
    expect(expectOneTerminal(a, 'A')).toMatchObject({ type: 'cancelled', reason: 'stopped' });
    expectOwnTokens(a, 'long-stop');
    await up.closed;
    expect(up.aborted).toBe(true);
    // Round robin sent the stop to the next instance, which signalled the owner.
    const owner = await instanceOf(c, a.streamId!);
    const sent = clusterLog(c).find((l) => l.event === 'session_stop_sent' && l.fields.session === s);
    expect(sent?.fields).toMatchObject({ trace: a.streamId, to_instance: owner });
    expect(sent?.fields.instance).not.toBe(owner);
  });

  it('Rapid: A on one instance, B 50 ms later on another: A superseded and its upstream closed before B’s opens, B done with only its own tokens', async () => {
    const s = session('rapid');
    const a = chat(lb.url, s, 'long-rapid-A');
    await a.tokensReached(1);
    await new Promise((r) => setTimeout(r, 50)); // the runbook's "50 ms later"
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
