import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { chat } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';
import { OPS_FEED_PATH, type LifecycleRecord } from '../../src/shared/lifecycle.js';
import { feedReaders } from './feedReader.js';

// The ops feed's bounds (docs/observability.md "The feed"): who may read it, how many at once,
// what a reader that does not read costs, and shutdown.

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});
const feed = feedReaders();

const OPS = 'ops-key-0123456789abcdef';
const OPS2 = 'ops2-key-0123456789abcdef';
const ALICE = 'alice-key-0123456789abcdef';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the ops feed: access', () => {
  it('is for admins when keys are configured: no key 401, a user key 403, an admin key 200', async () => {
    j = await startTestJarvis({ JARVIS_API_KEYS: `alice:${ALICE}`, JARVIS_ADMIN_KEYS: `ops:${OPS}` });
    for (const path of [OPS_FEED_PATH, '/v1/admin/ops/records']) {
      const none = await fetch(`${j.url}${path}`);
      expect(none.status).toBe(401);
      await none.arrayBuffer();
      const user = await fetch(`${j.url}${path}`, { headers: bearer(ALICE) });
      expect(user.status).toBe(403);
      expect(await user.json()).toMatchObject({ error: { code: 'admin_required' } });
    }
    const admin = await feed(j.url, bearer(OPS));
    expect(admin.status).toBe(200);
    const records = await fetch(`${j.url}/v1/admin/ops/records`, { headers: bearer(OPS) });
    expect(records.status).toBe(200);
    expect(Array.isArray(await records.json())).toBe(true);
  });

  it('is open on a loopback Jarvis without keys, as the other admin routes are', async () => {
    j = await startTestJarvis();
    const r = await feed(j.url);
    expect(r.status).toBe(200);
    // The comment that opens the feed arrives at once (proxies and browsers see a live response).
    await until(() => r.items.some((i) => i.kind === 'comment'), 'the opening comment');
  });
});

describe('the ops feed: readers', () => {
  it('caps readers per client and in all with a 429 in words, and frees a place when a reader leaves', async () => {
    j = await startTestJarvis({ JARVIS_ADMIN_KEYS: `ops:${OPS},ops2:${OPS2}`, JARVIS_OPS_MAX_READERS_PER_CLIENT: '2', JARVIS_OPS_MAX_READERS: '3' });
    const hub = j.jarvis.ctx.ops;
    const a1 = await feed(j.url, bearer(OPS));
    await feed(j.url, bearer(OPS));
    const a3 = await feed(j.url, bearer(OPS));
    expect(a3.status).toBe(429);
    await a3.ended;
    expect(JSON.parse(a3.body)).toMatchObject({ error: { code: 'too_many_ops_readers_for_client', message: expect.stringContaining('JARVIS_OPS_MAX_READERS_PER_CLIENT') } });
    expect(a3.headers['retry-after']).toBe('5');
    expect((await feed(j.url, bearer(OPS2))).status).toBe(200);
    const b2 = await feed(j.url, bearer(OPS2));
    expect(b2.status).toBe(429);
    await b2.ended;
    expect(JSON.parse(b2.body)).toMatchObject({ error: { code: 'too_many_ops_readers', message: expect.stringContaining('JARVIS_OPS_MAX_READERS') } });
    expect(hub.readerCount).toBe(3);
    const metrics = await (await fetch(`${j.url}/metrics`, { headers: bearer(OPS) })).text();
    expect(metrics).toMatch(/^jarvis_ops_feed_readers 3$/m);
    a1.close();
    await until(() => hub.readerCount === 2, 'the closed reader cleaned up');
    expect((await feed(j.url, bearer(OPS2))).status).toBe(200);
    for (const r of feed.readers) r.close();
    await until(() => hub.readerCount === 0, 'every reader cleaned up');
  });

  it('cuts a reader that does not read once it lags past the ring, holding no more than its buffer meanwhile; it then gets a reset', async () => {
    const bufferBytes = 16 * 1024;
    j = await startTestJarvis({ JARVIS_OPS_RETAIN_RECORDS: '50', JARVIS_OPS_READER_BUFFER_BYTES: String(bufferBytes) });
    const hub = j.jarvis.ctx.ops;
    const log = j.jarvis.ctx.log;
    const mark = await feed(j.url);
    log.info('session_stop', { session: 'mark' });
    const at = (await mark.waitFor((x) => x.fields.session === 'mark')).id;
    mark.close();
    await until(() => hub.readerCount === 0, 'the marking reader gone');

    // A reader that never reads: a socket whose data nobody consumes.
    const socket = net.connect(Number(new URL(j.url).port), '127.0.0.1');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    socket.write(`GET ${OPS_FEED_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nLast-Event-ID: ${at}\r\n\r\n`);
    socket.pause();
    await until(() => hub.readerCount === 1, 'the stalled reader attached');
    const pad = 'x'.repeat(8000);
    let written = 0;
    while (hub.cut === 0) {
      if (written > 5000) throw new Error('the stalled reader was never cut');
      for (let i = 0; i < 20; i++) log.info('session_stop', { session: `flood-${written++}`, pad });
      await new Promise((r) => setImmediate(r));
    }
    expect(hub.readerCount).toBe(0);
    // Its connection was closed: reading what was left in the kernel's buffers reaches the end.
    socket.resume();
    await closed;
    // What Jarvis held for it was its bound, plus at most the one record that crossed it.
    expect(hub.maxBuffered).toBeLessThan(bufferBytes + 9000);
    await waitForLog(j.logFile, 'ops_reader_cut', {});
    // Back with its last position, long gone: a reset, then the ring.
    const back = await feed(j.url, { 'last-event-id': String(at) });
    await back.waitFor(() => back.records.length === 50, 'the ring replayed');
    expect(back.items.find((i) => i.kind !== 'comment')?.kind).toBe('reset');
    expect(back.records[0]!.id).toBeGreaterThan(at + 1);
  });

  it('ends every reader at shutdown, after the streams it saw end', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (prompt) => ({ tokens: Array.from({ length: 400 }, (_, i) => `${prompt}#${i} `), tokenMs: 10 });
    const r = await feed(j.url);
    const c = chat(j.url, { session: 'down', prompt: 'long' });
    await c.firstToken();
    const id = await c.streamId;
    const closing = j.close();
    j = undefined;
    await r.ended;
    await closing;
    const ends = r.records.filter((e) => e.record.event === 'stream_end' && e.record.fields.trace === id).map((e) => e.record as LifecycleRecord);
    expect(ends).toHaveLength(1);
    expect(ends[0]!.fields.reason).toBe('shutdown');
    expect(r.records.some((e) => e.record.event === 'shutdown_start')).toBe(true);
  });
});
