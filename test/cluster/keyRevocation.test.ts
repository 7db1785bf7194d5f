import { afterEach, describe, expect, it } from 'vitest';
import type { CreatedApiKeyJson } from '../../src/shared/team/admin.js';
import { call, OPS, startCluster, type TestCluster } from '../helpers/cluster/cluster.js';
import { spawnJarvis, type JarvisProcess } from '../helpers/jarvisProcess.js';
import { waitForLog } from '../helpers/log.js';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/services/postgres.js';
import { redisUnavailable } from '../helpers/services/redis.js';
import { StreamReader } from '../helpers/streamReader.js';

// A stored key across instances (docs/team.md "3. Keys", docs/architecture.md "Stored keys"):
// created on one, it works at once on every other; revoked on one, it stops within a second on
// every other, and its streams there end cancelled/revoked. With Redis (its message) and without
// (each instance polls the shared Postgres).

const clusterSkip = redisUnavailable() ?? postgresUnavailable();
const pgSkip = postgresUnavailable();
const slow = (p: string) => ({ tokens: Array.from({ length: 2000 }, (_, i) => `${p}#${i} `), tokenMs: 10 });
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

let c: TestCluster | undefined;
const extra: { procs: JarvisProcess[]; postgres?: TestPostgres; fake?: FakeOllama } = { procs: [] };
afterEach(async () => {
  await c?.stop();
  c = undefined;
  for (const p of extra.procs.splice(0)) {
    p.proc.kill('SIGKILL');
    await p.exited;
  }
  await extra.fake?.stop();
  await extra.postgres?.stop();
  extra.fake = undefined;
  extra.postgres = undefined;
});

async function createKey(url: string, name: string): Promise<CreatedApiKeyJson> {
  const res = await call(url, 'POST', '/v1/admin/keys', { name }, OPS);
  if (res.status !== 201) throw new Error(`create on ${url}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as CreatedApiKeyJson;
}

function stream(url: string, key: string, session: string): StreamReader {
  return new StreamReader((signal) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(key), 'content-type': 'application/json', accept: 'application/x-ndjson', 'x-session-id': session },
      body: JSON.stringify({ messages: [{ role: 'user', content: session }] }),
      signal,
    }),
  );
}

/** Milliseconds from `since` until `url` refuses `key` (401 api_key_revoked), asking every 10 ms. */
async function refusedAfter(url: string, key: string, since: number, timeoutMs = 5000): Promise<number> {
  for (;;) {
    const res = await call(url, 'GET', '/v1/me', undefined, bearer(key));
    if (res.status === 401) {
      expect(res.body.error.code).toBe('api_key_revoked');
      return Math.round(performance.now() - since);
    }
    if (performance.now() - since > timeoutMs) throw new Error(`${url} still takes the key after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Revokes on `on`, then measures how long each of `others` takes to refuse it and to end its stream there. */
async function revokeAndMeasure(on: string, others: string[], key: CreatedApiKeyJson, running: StreamReader): Promise<{ refused: number[]; streamEnded: number }> {
  const since = performance.now();
  const streamEnded = running.finished.then(() => Math.round(performance.now() - since));
  const res = await call(on, 'DELETE', `/v1/admin/keys/${key.id}`, undefined, OPS);
  expect(res.status).toBe(200);
  const refused = await Promise.all(others.map((url) => refusedAfter(url, key.key, since)));
  return { refused, streamEnded: await streamEnded };
}

describe.skipIf(clusterSkip)('a stored key across three instances (Redis + Postgres)', () => {
  it('created on i1 works at once on i2 and i3; revoked on i1 it stops within a second on both, and its stream on i3 ends revoked', async () => {
    c = await startCluster(3);
    c.fake.plan = slow;
    const [i1, i2, i3] = c.instances.map((p) => p.url) as [string, string, string];
    const key = await createKey(i1, 'carol');
    // At once: no instance waits for its next look at the database.
    expect((await call(i2, 'GET', '/v1/me', undefined, bearer(key.key))).body).toMatchObject({ name: 'carol', via: 'key', key_id: key.id });
    expect((await call(i3, 'GET', '/v1/me', undefined, bearer(key.key))).status).toBe(200);

    const running = stream(i3, key.key, 'revoked-on-i3');
    await running.waitFor((e) => e.type === 'token' && e.seq >= 2);
    const measured = await revokeAndMeasure(i1, [i2, i3], key, running);
    console.log(`revocation with Redis: refused after ${measured.refused.join(' / ')} ms on i2 / i3; the stream on i3 ended after ${measured.streamEnded} ms`);
    for (const ms of measured.refused) expect(ms).toBeLessThan(1000);
    expect(measured.streamEnded).toBeLessThan(1000);
    expect(running.terminal).toMatchObject({ type: 'cancelled', reason: 'revoked' });
    const i3Log = c.instances[2]!.logFile;
    expect((await waitForLog(i3Log, 'key_ended', { key_id: key.id })).fields).toMatchObject({ why: 'revoked', streams: '1' });
    expect((await waitForLog(i3Log, 'stream_end', { session: 'revoked-on-i3' })).fields.reason).toBe('revoked');
  }, 90_000);
});

describe.skipIf(pgSkip)('a stored key across two instances on one Postgres, without Redis', () => {
  it('created on A works at once on B; revoked on A, B refuses it within a second (its poll) and ends its stream revoked', async () => {
    extra.postgres = await startPostgres();
    extra.fake = await new FakeOllama().start();
    extra.fake.plan = slow;
    const databaseUrl = await extra.postgres.newDatabase();
    const env = { JARVIS_BACKEND: 'ollama', OLLAMA_HOST: extra.fake.url, DATABASE_URL: databaseUrl, JARVIS_ADMIN_KEYS: `ops:${OPS.authorization.slice(7)}` };
    const a = await spawnJarvis({ ...env, JARVIS_INSTANCE_ID: 'a' });
    extra.procs.push(a);
    const b = await spawnJarvis({ ...env, JARVIS_INSTANCE_ID: 'b' });
    extra.procs.push(b);
    const key = await createKey(a.url, 'dave');
    expect((await call(b.url, 'GET', '/v1/me', undefined, bearer(key.key))).body).toMatchObject({ name: 'dave', key_id: key.id });

    const running = stream(b.url, key.key, 'revoked-on-b');
    await running.waitFor((e) => e.type === 'token' && e.seq >= 2);
    const measured = await revokeAndMeasure(a.url, [b.url], key, running);
    console.log(`revocation without Redis: refused after ${measured.refused[0]} ms on B; its stream ended after ${measured.streamEnded} ms`);
    expect(measured.refused[0]).toBeLessThan(1000);
    expect(measured.streamEnded).toBeLessThan(1000);
    expect(running.terminal).toMatchObject({ type: 'cancelled', reason: 'revoked' });
  }, 90_000);
});
