import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diagnoseCommand } from '../../src/cli/diagnoseCommand.js';
import type { Check, Report } from '../../src/diagnostics/report/report.js';
import { ALICE, attach, call, chat, LEASE_MS, startCluster, type TestCluster } from '../helpers/cluster/cluster.js';
import { waitForLog } from '../helpers/log.js';
import { postgresUnavailable } from '../helpers/services/postgres.js';
import { redisUnavailable } from '../helpers/services/redis.js';
import { StreamReader } from '../helpers/streamReader.js';

// A Redis restarted EMPTY (no persistence) after an outage longer than the lease, at
// any point of a stream (docs/security.md, "Redis restarted empty"): the owner still
// has the stream in memory and writes its log back; no reader is cut without a
// terminal event, the stored answer is the owner's whole one, and `jarvis diagnose`
// names what happened. Each test has its own cluster (two instances, real Redis).

const skip = redisUnavailable() ?? postgresUnavailable();
let c: TestCluster | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

type Instance = NonNullable<TestCluster['instances'][0]>;

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

/** Redis down for longer than the lease, then back empty; resolves once both instances are connected again. */
async function outage(cluster: TestCluster, instances: Instance[]): Promise<void> {
  await cluster.redis.kill();
  for (const i of instances) await expect.poll(async () => (await call(i.url, 'GET', '/health')).body.cluster.redis, { timeout: 15_000 }).toBe('unavailable');
  // The outage itself (not a wait for an event): longer than the lease, so every lease has lapsed.
  await new Promise((r) => setTimeout(r, LEASE_MS * 2));
  await cluster.redis.start();
  for (const i of instances) await expect.poll(async () => (await call(i.url, 'GET', '/health')).body.cluster.redis, { timeout: 15_000 }).toBe('ready');
}

function seqs(r: StreamReader): number[] {
  return r.tokens.map((t) => t.seq);
}

function upTo(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

async function storedAnswer(url: string, conversationId: string, until: (m: { state: string }) => boolean): Promise<{ state: string; content: string; error?: unknown }> {
  let last: { state: string; content: string } | undefined;
  await expect
    .poll(
      async () => {
        last = (await call(url, 'GET', `/v1/conversations/${conversationId}`)).body.messages?.at(-1);
        return last !== undefined && until(last);
      },
      { timeout: 20_000 },
    )
    .toBe(true);
  return last as { state: string; content: string };
}

async function diagnoseDir(dir: string): Promise<Map<string, Check>> {
  let json = '';
  await diagnoseCommand(['--log', dir, '--json'], (t) => (json += t));
  const report = JSON.parse(json) as Report;
  return new Map(report.sections.flatMap((s) => s.checks.map((ch) => [ch.id, ch] as const)));
}

describe.skipIf(skip)('Redis restarted empty', () => {
  it('mid-stream, after an outage longer than the lease: the answer\'s client and a reader on the other instance get every token and done, the store has the whole answer, diagnose names the restart', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'jarvis-redis-restart-'));
    c = await startCluster(2, {}, { logDir });
    c.fake.plan = (p) => ({ tokens: Array.from({ length: 200 }, (_, i) => `${p}#${i} `), tokenMs: 50 });
    const [i1, i2] = c.instances as [Instance, Instance];
    const conv = await call(i1.url, 'POST', '/v1/conversations', { title: 'restart' });
    const a = answer(i1.url, conv.body.id, 'A');
    await a.tokensReached(5);
    const streamId = a.streamId!;
    const reader = attach(i2.url, streamId, -1);
    await reader.tokensReached(40);
    await outage(c, [i1, i2]);
    await Promise.all([a.finished, reader.finished]);

    expect(a.terminal).toMatchObject({ type: 'done' });
    expect(seqs(a)).toEqual(upTo(200));
    expect(reader.terminal).toMatchObject({ type: 'done' });
    expect(seqs(reader)).toEqual(upTo(200));
    expect(reader.text).toBe(a.text);
    const stored = await storedAnswer(i2.url, conv.body.id, (m) => m.state !== 'streaming');
    expect(stored).toMatchObject({ state: 'done', content: a.text });

    // The owner saw the restart and wrote the log back; the reader on i2 went on from it (it logs
    // redis_log_resumed when it found the log missing first, not when the owner was quicker).
    const restarted = await waitForLog(join(logDir, 'i1.log'), 'redis_restarted', {}, 10_000);
    expect(restarted.fields).toMatchObject({ empty: 'true' });
    await waitForLog(join(logDir, 'i1.log'), 'redis_log_restored', { trace: streamId }, 10_000);
    const check = (await diagnoseDir(logDir)).get('redis_restarted');
    expect(check?.status).toBe('problem');
    expect(check?.summary).toMatch(/Redis restarted EMPTY at .*seen by (i1, i2|i2, i1)\); 1 streams' logs were written back .*\(i1: 1\); [01] readers on other instances resumed; 0 readers got answer_log_lost$/);
  }, 120_000);

  it('before the first token: the owner writes the log back at once (its mirror had nothing to write), and the reader elsewhere gets the whole answer', async () => {
    c = await startCluster(2);
    c.fake.plan = (p) => ({ tokens: Array.from({ length: 30 }, (_, i) => `${p}#${i} `), tokenMs: 10, firstTokenMs: LEASE_MS * 2 + 12_000 });
    const [i1, i2] = c.instances as [Instance, Instance];
    const conv = await call(i1.url, 'POST', '/v1/conversations', { title: 'early' });
    const a = answer(i1.url, conv.body.id, 'B');
    await a.waitFor((e) => e.type === 'status');
    const streamId = a.streamId!;
    const reader = attach(i2.url, streamId);
    await reader.waitFor((e) => e.type === 'status');
    await outage(c, [i1, i2]);
    // Written back before the first token comes (nothing new for the mirror to write meanwhile).
    await waitForLog(i1.logFile, 'redis_log_restored', { trace: streamId }, 10_000);
    expect(a.tokens).toHaveLength(0);
    await Promise.all([a.finished, reader.finished]);
    expect(a.terminal).toMatchObject({ type: 'done' });
    expect(seqs(a)).toEqual(upTo(30));
    expect(reader.terminal).toMatchObject({ type: 'done' });
    expect(seqs(reader)).toEqual(upTo(30));
    expect(await storedAnswer(i1.url, conv.body.id, (m) => m.state !== 'streaming')).toMatchObject({ state: 'done', content: a.text });
  }, 120_000);

  it('after the end, within the retention: the owner writes the ended log back, and a reader on the other instance replays it whole', async () => {
    c = await startCluster(2);
    c.fake.plan = (p) => ({ tokens: Array.from({ length: 40 }, (_, i) => `${p}#${i} `), tokenMs: 2 });
    const [i1, i2] = c.instances as [Instance, Instance];
    const a = chat(i1.url, 'ended', 'C');
    await a.finished;
    expect(a.terminal).toMatchObject({ type: 'done' });
    const streamId = a.streamId!;
    expect((await call(i2.url, 'GET', `/v1/streams/${streamId}`)).status).toBe(200);
    await outage(c, [i1, i2]);
    await waitForLog(i1.logFile, 'redis_log_restored', { trace: streamId, state: 'ended' }, 15_000);
    const reader = attach(i2.url, streamId, -1);
    await reader.finished;
    expect(reader.terminal).toMatchObject({ type: 'done' });
    expect(seqs(reader)).toEqual(upTo(40));
    expect(reader.text).toBe(a.text);
  }, 120_000);

  it('when no instance can write the log back (its owner died too): the reader elsewhere ends with error answer_log_lost, never silence', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'jarvis-redis-restart-'));
    c = await startCluster(2, {}, { logDir });
    c.fake.plan = (p) => ({ tokens: Array.from({ length: 4000 }, (_, i) => `${p}#${i} `), tokenMs: 5 });
    const [i1, i2] = c.instances as [Instance, Instance];
    const a = chat(i1.url, 'orphan', 'D');
    await a.tokensReached(10);
    const streamId = a.streamId!;
    const reader = attach(i2.url, streamId, -1);
    await reader.tokensReached(10);
    i1.proc.kill('SIGKILL');
    await i1.exited;
    await outage(c, [i2]);
    await reader.finished;
    expect(reader.terminal).toMatchObject({ type: 'error', code: 'answer_log_lost' });
    expect((reader.terminal as { message: string }).message).toMatch(/reload/);
    const s = seqs(reader);
    expect(s).toEqual(upTo(s.length));
    await waitForLog(join(logDir, 'i2.log'), 'redis_log_lost', { trace: streamId }, 10_000);
    const check = (await diagnoseDir(logDir)).get('redis_restarted');
    expect(check?.status).toBe('problem');
    expect(check?.summary).toMatch(/1 readers got answer_log_lost \(.*/);
  }, 120_000);
});
