import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { diagnoseCommand } from '../../src/cli/diagnoseCommand.js';
import type { Check, Report } from '../../src/diagnostics/report/report.js';
import { openRedis, whenReady } from '../../src/streams/cluster/redis/redisClient.js';
import { RedisEventLog } from '../../src/streams/cluster/eventLog/redisEventLog.js';
import { FROM_START, type LogSlice } from '../../src/streams/eventLog/types.js';
import { ALICE, attach, call, chat, LEASE_MS, OPS, startCluster, type TestCluster } from '../helpers/cluster/cluster.js';
import { leaseKey, streamKeys } from '../helpers/cluster/redisLayout.js';
import { events, waitForLog } from '../helpers/log.js';
import { postgresUnavailable } from '../helpers/services/postgres.js';
import { redisUnavailable, startRedis, type TestRedis } from '../helpers/services/redis.js';
import { StreamReader } from '../helpers/streamReader.js';

// The operator's side of a cluster (docs/clusters.md, docs/operations.md): what the logs, metrics and the
// conversation store say when an instance dies or restarts, and `jarvis diagnose`
// over every instance's log.

const skip = redisUnavailable() ?? postgresUnavailable();
let c: TestCluster | undefined;
let redis: TestRedis | undefined;
let client: Redis | undefined;
afterEach(async () => {
  client?.disconnect();
  client = undefined;
  await c?.stop();
  c = undefined;
  await redis?.stop();
  redis = undefined;
});

const longPlan = (p: string) => ({ tokens: Array.from({ length: 4000 }, (_, i) => `${p}#${i} `), tokenMs: 5 });

/** `POST /v1/conversations/{id}/messages` as alice: the answer streams (and is stored) on the instance at `url`. */
function answer(url: string, conversationId: string, content: string): StreamReader {
  return new StreamReader((signal) =>
    fetch(`${url}/v1/conversations/${conversationId}/messages`, {
      method: 'POST',
      headers: { ...ALICE, 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ content }),
      signal,
    }),
  );
}

async function lastMessage(url: string, conversationId: string): Promise<{ state: string; content: string }> {
  return (await call(url, 'GET', `/v1/conversations/${conversationId}`)).body.messages.at(-1);
}

async function diagnoseDir(dir: string): Promise<{ code: number; byId: Map<string, Check> }> {
  let json = '';
  const code = await diagnoseCommand(['--log', dir, '--json'], (t) => (json += t));
  const report = JSON.parse(json) as Report;
  return { code, byId: new Map(report.sections.flatMap((s) => s.checks.map((ch) => [ch.id, ch] as const))) };
}

describe.skipIf(skip)('cluster operations', () => {
  it('kill -9 mid-stream: the instance that records each stream lost logs stream_lost and counts it; a gone instance\'s answer is swept; diagnose names the lost streams and the dead instance', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'jarvis-cluster-logs-'));
    c = await startCluster(2, {}, { logDir });
    c.fake.plan = longPlan;
    const [i1, i2] = c.instances as [NonNullable<TestCluster['instances'][0]>, NonNullable<TestCluster['instances'][0]>];
    const read = chat(i1.url, 'ops-read', 'long-R');
    const stopped = chat(i1.url, 'ops-stop', 'long-S');
    const conv = await call(i1.url, 'POST', '/v1/conversations', { title: 'dies with i1' });
    const stored = answer(i1.url, conv.body.id, 'long-C');
    await Promise.all([read.tokensReached(10), stopped.tokensReached(10), stored.tokensReached(10)]);
    const reader = attach(i2.url, read.streamId!, 2);
    await reader.tokensReached(5);
    i1.proc.kill('SIGKILL');
    await i1.exited;

    // A reader on i2 finds the lease lapsed: i2 records the stream lost, and says so in its own log.
    await reader.finished;
    expect(reader.terminal).toMatchObject({ type: 'error', code: 'lost', session_id: 'ops-read' });
    const byReader = await waitForLog(i2.logFile, 'stream_lost', { trace: read.streamId! });
    expect(byReader.fields).toMatchObject({ session: 'ops-read', key: 'alice', prev_instance: 'i1', found_by: 'reader', instance: 'i2' });

    // A Stop on i2 for a session whose stream died with i1 (once its lease lapsed): recorded lost by the Stop.
    await expect
      .poll(async () => {
        await call(i2.url, 'POST', '/v1/sessions/ops-stop/stop');
        return events(i2.logFile, 'stream_lost', { trace: stopped.streamId! }).length;
      }, { timeout: LEASE_MS * 4 + 10_000, interval: 300 })
      .toBe(1);
    expect(events(i2.logFile, 'stream_lost', { trace: stopped.streamId! })[0]?.fields).toMatchObject({ session: 'ops-stop', prev_instance: 'i1', found_by: 'stop' });

    // Metrics: every series of i2 carries instance="i2", and the streams it recorded lost are counted.
    const metrics = await fetch(`${i2.url}/metrics`, { headers: OPS }).then((r) => r.text());
    const series = metrics.split('\n').filter((l) => l.startsWith('jarvis_'));
    expect(series.length).toBeGreaterThan(10);
    for (const line of series) expect(line).toContain('instance="i2"');
    const lostBy = (foundBy: string) => series.find((l) => l.startsWith('jarvis_streams_lost_total{') && l.includes(`found_by="${foundBy}"`));
    expect(lostBy('reader')).toMatch(/ 1$/);
    expect(lostBy('stop')).toMatch(/ 1$/);
    expect(lostBy('acquire')).toMatch(/ 0$/);

    // The answer i1 was storing stays `streaming` in Postgres until i2's sweep finds i1 gone and takes it.
    await expect.poll(async () => (await lastMessage(i2.url, conv.body.id)).state, { timeout: 60_000, interval: 500 }).toBe('interrupted');
    const swept = await waitForLog(i2.logFile, 'answers_interrupted');
    expect(swept.fields.count).toBe('1');

    // i1 comes back (same id, same log file): a restart without shutdown_complete.
    const back = await c.spawn('i1');
    // Its log is written asynchronously: diagnose once its second run's first line is there.
    await expect.poll(() => events(back.logFile, 'server_listening').length, { timeout: 10_000 }).toBe(2);
    const { code, byId } = await diagnoseDir(logDir);
    expect(code).toBe(1);
    const lost = byId.get('streams_lost');
    expect(lost?.status).toBe('problem');
    expect(lost?.summary).toContain('of i1');
    const text = lost?.evidence.map((e) => e.text).join('\n') ?? '';
    expect(text).toMatch(/^instance i1 died or hung: 2 streams recorded lost: /);
    expect(text).toContain(read.streamId!);
    expect(text).toContain(stopped.streamId!);
    expect(byId.get('instance_restarts')?.summary).toContain('i1 ×1');
    expect(byId.get('split_brain')?.status).toBe('ok');
    expect(byId.get('lease_lost')?.status).toBe('ok');
    const summary = byId.get('cluster_instances')?.evidence.map((e) => e.text).join('\n') ?? '';
    expect(summary).toMatch(/^i1: 3 streams, 0 ends, 3 problems \(2 streams lost with it, 1 restarts without shutdown_complete\)/m);
    expect(summary).toMatch(/^i2: 0 streams, 0 ends, 0 problems/m);
  }, 120_000);

  it('an instance paused past its lease (SIGSTOP): the next prompt records its stream lost, it wakes up fenced (lease_lost); diagnose names both and sees no split brain, nor in a healthy cross-instance supersede', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'jarvis-cluster-logs-'));
    c = await startCluster(2, {}, { logDir });
    c.fake.plan = longPlan;
    const [i1, i2] = c.instances as [NonNullable<TestCluster['instances'][0]>, NonNullable<TestCluster['instances'][0]>];
    // First a healthy cross-instance supersede: B on i2 waits for A on i1.
    const a = chat(i1.url, 'handover', 'long-A');
    await a.tokensReached(5);
    const b = chat(i2.url, 'handover', 'long-B');
    await b.tokensReached(5);
    await a.finished;
    expect(a.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    await call(i2.url, 'POST', '/v1/sessions/handover/stop');
    await b.finished;

    // Then i1 is paused mid-stream until its lease has lapsed in Redis.
    const p = chat(i1.url, 'paused', 'long-P');
    await p.tokensReached(5);
    client = openRedis(c.redis.url, 2000);
    const lease = leaseKey('alice', 'paused', p.streamId!);
    i1.proc.kill('SIGSTOP');
    try {
      await expect.poll(() => client!.exists(lease), { timeout: LEASE_MS * 4, interval: 50 }).toBe(0);
      const q = chat(i2.url, 'paused', 'short');
      c.fake.plan = (prompt) => (prompt === 'short' ? { tokens: ['x ', 'y'], tokenMs: 1 } : longPlan(prompt));
      await q.finished;
      expect(q.terminal).toMatchObject({ type: 'done' });
      const lost = await waitForLog(i2.logFile, 'stream_lost', { trace: p.streamId! });
      expect(lost.fields).toMatchObject({ new_trace: q.streamId!, prev_instance: 'i1', found_by: 'acquire' });
    } finally {
      i1.proc.kill('SIGCONT');
    }
    const fenced = await waitForLog(i1.logFile, 'lease_lost', { trace: p.streamId! }, 10_000);
    expect(['renew', 'append', 'lease_check']).toContain(fenced.fields.found_by);
    await waitForLog(i1.logFile, 'stream_end', { trace: p.streamId! }, 10_000);
    await expect.poll(() => c!.fake.requests.find((r) => r.prompt === 'long-P')?.aborted, { timeout: 5000 }).toBe(true);

    const { byId } = await diagnoseDir(logDir);
    expect(byId.get('split_brain')?.status).toBe('ok');
    expect(byId.get('no_overlap')?.status).toBe('ok');
    expect(byId.get('lease_lost')?.status).toBe('problem');
    expect(byId.get('lease_lost')?.evidence[0]?.text).toContain(`instance i1 lost its lease on stream ${p.streamId} (session paused`);
    expect(byId.get('streams_lost')?.evidence[0]?.text).toBe(`instance i1 died or hung: 1 streams recorded lost: ${p.streamId}`);
    const summary = byId.get('cluster_instances')?.evidence.map((e) => e.text).join('\n') ?? '';
    expect(summary).toMatch(/^i1: 2 streams, 2 ends, 2 problems \(1 leases lost, 1 streams lost with it\)/m);
    expect(summary).toMatch(/^i2: 2 streams, 2 ends, 0 problems/m);
  }, 120_000);

  it('a restarted instance sweeps only its own answers: the answer another instance is streaming is not interrupted', async () => {
    c = await startCluster(2);
    c.fake.plan = longPlan;
    const [i1, i2] = c.instances as [NonNullable<TestCluster['instances'][0]>, NonNullable<TestCluster['instances'][0]>];
    const conv = await call(i2.url, 'POST', '/v1/conversations', { title: 'streams on i2' });
    const running = answer(i2.url, conv.body.id, 'long-A');
    await running.tokensReached(20);
    await expect.poll(async () => (await lastMessage(i1.url, conv.body.id)).content.length, { timeout: 10_000 }).toBeGreaterThan(0);

    // i1 restarts (a deploy): its start-up sweep runs while i2's answer streams.
    i1.proc.kill('SIGTERM');
    await i1.exited;
    const again = await c.spawn('i1');
    const selected = await waitForLog(again.logFile, 'store_selected');
    expect(selected.fields.interrupted_answers).toBe('0');
    expect((await lastMessage(again.url, conv.body.id)).state).toBe('streaming');
    // Stopped from the restarted instance: the answer ends as stopped, stored whole by i2.
    await call(again.url, 'POST', `/v1/conversations/${conv.body.id}/stop`);
    await running.finished;
    await expect.poll(async () => (await lastMessage(again.url, conv.body.id)).state, { timeout: 10_000 }).toBe('stopped');
    expect((await lastMessage(again.url, conv.body.id)).content).toBe(running.text);

    // Its own answer, left streaming by a kill -9, is taken at once when it starts again under its id.
    const mine = answer(again.url, conv.body.id, 'long-B');
    await mine.tokensReached(5);
    again.proc.kill('SIGKILL');
    await again.exited;
    const third = await c.spawn('i1');
    // (Each run logs to a file of its own here.)
    expect((await waitForLog(third.logFile, 'store_selected')).fields.interrupted_answers).toBe('1');
    expect((await lastMessage(i2.url, conv.body.id)).state).toBe('interrupted');
  }, 120_000);
});

describe.skipIf(redisUnavailable())('a stream log read that fails', () => {
  it('ends with an error terminal that names the stream\'s session, and is logged with it', async () => {
    redis = await startRedis();
    client = openRedis(redis.url, 2000);
    expect(await whenReady(client, 10_000)).toBe(true);
    const failures: Array<{ streamId: string; sessionId: string }> = [];
    const log = new RedisEventLog(client, { retentionMs: 60_000, leaseMs: 3000, commandTimeoutMs: 2000, onReadError: (streamId, sessionId) => failures.push({ streamId, sessionId }) });
    await log.create({ type: 'status', status: 'thinking', stream_id: 'st-gap', session_id: 'sess-gap', trace_id: 'st-gap', model: 'm' }, 'alice', 5n);
    // An entry out of order (token 3 right after the status): a gap a reader must not skip silently.
    await client.xadd(streamKeys('alice', 'sess-gap', 'st-gap').log, '5-0', 't', 'k', 'v', 'x');
    const slices: LogSlice[] = [];
    for await (const slice of log.read('st-gap', FROM_START, AbortSignal.timeout(10_000))) slices.push(slice);
    expect(slices.at(-1)?.terminal).toMatchObject({ type: 'error', code: 'internal_error', stream_id: 'st-gap', session_id: 'sess-gap' });
    expect(failures).toEqual([{ streamId: 'st-gap', sessionId: 'sess-gap' }]);
    await log.close();
  }, 30_000);
});
