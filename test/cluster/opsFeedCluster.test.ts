import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { openRedis, whenReady } from '../../src/streams/cluster/redis/redisClient.js';
import { OPS_CHANNEL } from '../../src/streams/cluster/opsRelay.js';
import type { LifecycleRecord } from '../../src/shared/lifecycle.js';
import { chat, OPS, startCluster, type TestCluster } from '../helpers/cluster/cluster.js';
import { postgresUnavailable } from '../helpers/services/postgres.js';
import { redisUnavailable } from '../helpers/services/redis.js';
import { FeedReader } from '../ops/feedReader.js';

// Cluster mode (docs/observability.md "The feed"): /ops on any instance shows every instance's
// streams, each record naming its instance, none twice.

const skip = redisUnavailable() ?? postgresUnavailable();
let c: TestCluster | undefined;
let client: Redis | undefined;
const readers: FeedReader[] = [];
afterEach(async () => {
  for (const r of readers.splice(0)) r.close();
  client?.disconnect();
  client = undefined;
  await c?.stop();
  c = undefined;
});

describe.skipIf(skip)('the ops feed in a cluster', () => {
  it("shows a stream of instance i2 in i1's feed, with instance=i2, each record once", async () => {
    c = await startCluster(2);
    const [i1, i2] = c.instances as [(typeof c.instances)[0], (typeof c.instances)[0]];
    c.fake.plan = (p) => ({ tokens: Array.from({ length: 5 }, (_, i) => `${p}#${i} `), tokenMs: 5 });
    const r = await FeedReader.open(i1.url, OPS);
    readers.push(r);
    expect(r.status).toBe(200);
    const local = chat(i1.url, 'on-i1', 'one');
    await local.finished;
    const remote = chat(i2.url, 'on-i2', 'two');
    await remote.finished;
    const remoteId = remote.streamId!;
    const localId = local.streamId!;
    await r.waitFor((x) => x.event === 'stream_end' && x.fields.trace === remoteId, "i2's stream_end", 20_000);
    const ofRemote = r.records.filter((e) => e.record.fields.trace === remoteId || e.record.fields.stream_id === remoteId).map((e) => e.record);
    expect(ofRemote.every((x) => x.instance === 'i2' && x.fields.instance === 'i2')).toBe(true);
    const names = ofRemote.map((x) => x.event);
    expect(names).toEqual(expect.arrayContaining(['stream_start', 'stream_first_token', 'stream_end']));
    for (const name of ['stream_start', 'stream_first_token', 'stream_end']) expect(names.filter((n) => n === name)).toHaveLength(1);
    // i1's own records come once too (it does not take its own records back from Redis).
    await new Promise((res) => setTimeout(res, 300));
    const ofLocal = r.records.filter((e) => e.record.fields.trace === localId && e.record.event === 'stream_end');
    expect(ofLocal).toHaveLength(1);
    expect(ofLocal[0]!.record.instance).toBe('i1');
    // Ids stay the reader's own: consecutive, whoever wrote the record.
    for (let i = 1; i < r.records.length; i++) expect(r.records[i]!.id).toBe(r.records[i - 1]!.id + 1);
    // i2's feed has i1's stream as well.
    const r2 = await FeedReader.open(i2.url, OPS);
    readers.push(r2);
    await r2.waitFor((x) => x.event === 'stream_end' && x.fields.trace === localId && x.instance === 'i1', "i1's stream_end on i2", 10_000);

    // A record that reaches a hub twice (a message sent again) is taken once.
    client = openRedis(c.redis.url, 2000);
    await whenReady(client, 5000);
    const record = (session: string): LifecycleRecord => ({ t: Date.now(), level: 'info', event: 'session_stop', instance: 'ghost', fields: { session, instance: 'ghost' } });
    const first = JSON.stringify({ i: 'ghost', r: [[7, record('ghost-a')]] });
    await client.publish(OPS_CHANNEL, first);
    await client.publish(OPS_CHANNEL, first);
    await client.publish(OPS_CHANNEL, JSON.stringify({ i: 'ghost', r: [[7, record('ghost-a')], [8, record('ghost-b')]] }));
    await r.waitFor((x) => x.fields.session === 'ghost-b', 'the second ghost record');
    expect(r.records.filter((e) => e.record.fields.session === 'ghost-a')).toHaveLength(1);
    expect(r.records.filter((e) => e.record.fields.session === 'ghost-b')).toHaveLength(1);
  }, 90_000);
});
