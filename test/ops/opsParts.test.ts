import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { uiRoutes } from '../../src/server/operations/ui.js';
import { OpsHub } from '../../src/server/ops/hub.js';
import { OpsRing } from '../../src/server/ops/ring.js';
import { OpsRelay } from '../../src/streams/cluster/opsRelay.js';
import { openRedis } from '../../src/streams/cluster/redis/redisClient.js';
import type { LifecycleRecord } from '../../src/shared/lifecycle.js';

// The page's address, and the ring's and relay's bounds on their own.

const record = (session: string): LifecycleRecord => ({ t: Date.now(), level: 'info', event: 'session_stop', instance: '', fields: { session } });
const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('/ops', () => {
  it('is the web UI page, revalidated each time (the page picks the timeline by its path)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jarvis-ui-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Jarvis</title>');
    const app = Fastify();
    uiRoutes(app, dir);
    closers.push(() => app.close());
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const page = await fetch(`${url}/ops`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(await page.text()).toContain('<title>Jarvis</title>');
  });
});

describe('the ops ring', () => {
  it('keeps at most its count and nothing older than its age; a position still held resumes, one gone does not', () => {
    let now = 1000;
    const ring = new OpsRing({ retainMs: 500, retainRecords: 3 }, () => now, 100);
    for (const s of ['a', 'b', 'c', 'd']) ring.push(record(s));
    expect(ring.records().map((r) => r.fields.session)).toEqual(['b', 'c', 'd']);
    expect([ring.firstSeq, ring.lastSeq]).toEqual([101, 103]);
    expect(ring.holdsAfter(100)).toBe(true);
    expect(ring.holdsAfter(99)).toBe(false);
    expect(ring.holdsAfter(104)).toBe(false);
    now += 400;
    ring.push(record('e'));
    now += 200;
    // b, c, d are 600 ms old, e 200 ms.
    expect(ring.records().map((r) => r.fields.session)).toEqual(['e']);
    expect(ring.at(104)?.record.fields.session).toBe('e');
    expect(ring.at(103)).toBeUndefined();
  });
});

describe('the ops relay', () => {
  it('drops and counts records while Redis is away, says so once, and never waits for it', async () => {
    const redis = openRedis('redis://127.0.0.1:9', 200);
    redis.on('error', () => {});
    const failures: string[] = [];
    const relay = new OpsRelay(redis, { instance: 'me', onFailing: (e) => failures.push(e) }, () => {});
    closers.push(() => {
      relay.close();
      redis.disconnect();
    });
    const started = performance.now();
    for (let i = 0; i < 10; i++) relay.publish(i, record(`r${i}`));
    expect(performance.now() - started).toBeLessThan(50);
    await expect.poll(() => relay.dropped, { timeout: 5000 }).toBe(10);
    for (let i = 10; i < 15; i++) relay.publish(i, record(`r${i}`));
    await expect.poll(() => relay.dropped, { timeout: 5000 }).toBe(15);
    expect(failures).toHaveLength(1);
  });
});

describe('the ops hub', () => {
  it('sends a comment line to a quiet reader every heartbeat, and none once the reader left', async () => {
    const hub = new OpsHub({ retainMs: 60_000, retainRecords: 10, readerBufferBytes: 4096, heartbeatMs: 50 });
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const detach = hub.attach(res, 'test', undefined);
      res.on('close', detach);
    });
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { signal: controller.signal });
    const reader = res.body!.getReader();
    let text = '';
    while ((text.match(/: ping/g) ?? []).length < 2) text += new TextDecoder().decode((await reader.read()).value);
    expect(text.startsWith(': jarvis ops feed\n')).toBe(true);
    controller.abort();
    await expect.poll(() => hub.readerCount).toBe(0);
    hub.close();
  });
});
