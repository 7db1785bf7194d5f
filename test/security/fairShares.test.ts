import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { parseLine } from '../../src/log/format.js';
import { LineSplitter } from '../../src/shared/ndjson.js';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { chat } from '../helpers/chatClient.js';
import { spawnJarvis, type JarvisProcess } from '../helpers/jarvisProcess.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { rssMb, stalledGet, stalledGets, type StalledClient } from '../helpers/rawHttp.js';

// Fair shares between API keys (docs/security.md "Connections, feed followers and
// reattach readers"): one key holding many followers, readers or connections, or
// followers and readers that never read, costs another key nothing, and Jarvis's
// memory stays bounded. Key A is the attacker; key B must still get its answers.

const A = 'alice-key-0123456789abcdef';
const B = 'bob-key-0123456789abcdefgh';
const KEYS = { JARVIS_API_KEYS: `alice:${A},bob:${B}` };
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

let j: TestJarvis | undefined;
let proc: JarvisProcess | undefined;
let fake: FakeOllama | undefined;
const held: StalledClient[] = [];
afterEach(async () => {
  for (const c of held.splice(0)) c.socket.destroy();
  await j?.close();
  j = undefined;
  if (proc) {
    proc.proc.kill('SIGTERM');
    await proc.exited;
    proc = undefined;
  }
  await fake?.stop();
  fake = undefined;
});

async function call(url: string, key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...auth(key), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Key B lists, creates, streams an answer to its end and follows its feed: all served. */
async function keyBGetsItsAnswers(url: string): Promise<void> {
  expect((await call(url, B, 'GET', '/v1/conversations')).status).toBe(200);
  expect((await call(url, B, 'POST', '/v1/conversations', { title: 'b' })).status).toBe(201);
  const answer = chat(url, { session: 'b-session', prompt: 'hello', headers: auth(B) });
  await answer.finished;
  expect(answer.status).toBe(200);
  expect(answer.terminal?.type).toBe('done');
  const follower = await stalledGet(url, '/v1/conversations/events', auth(B));
  held.push(follower);
  expect(follower.status).toBe(200);
}

/** Opens `count` followers of key A that never read; returns how many were served, and the refusals' bodies. */
async function followersOfA(url: string, count: number): Promise<{ served: number; refusals: string[] }> {
  const clients = await stalledGets(count, url, '/v1/conversations/events', auth(A));
  held.push(...clients);
  return { served: clients.filter((c) => c.status === 200).length, refusals: clients.filter((c) => c.status !== 200).map((c) => `${c.status} ${c.first}`) };
}

function logLines(logFile: string, event: string): Array<Record<string, string>> {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .map((l) => parseLine(l))
    .filter((l) => l?.event === event)
    .map((l) => l!.fields);
}

describe('connections between keys (JARVIS_MAX_CONNECTIONS=100)', () => {
  it('key A opens 100 followers: it gets its bound, then 429 naming the bound; key B still gets its answers', async () => {
    j = await startTestJarvis({ ...KEYS, JARVIS_MAX_CONNECTIONS: '100' });
    const a = await followersOfA(j.url, 100);
    expect(a.served).toBe(32);
    expect(a.refusals).toHaveLength(68);
    for (const r of a.refusals) expect(r).toMatch(/^429 [\s\S]*too_many_followers_for_client[\s\S]*JARVIS_MAX_FOLLOWERS_PER_CLIENT/);
    const the101st = await stalledGet(j.url, '/v1/conversations/events', auth(A));
    held.push(the101st);
    expect(the101st.status).toBe(429);
    expect(the101st.first).toMatch(/retry-after: \d+/i);
    await keyBGetsItsAnswers(j.url);
  }, 60_000);

  it('with followers allowed, key A holds its share of the connections (half), then 429 naming JARVIS_MAX_CONNECTIONS_PER_CLIENT', async () => {
    j = await startTestJarvis({ ...KEYS, JARVIS_MAX_CONNECTIONS: '100', JARVIS_MAX_FOLLOWERS_PER_CLIENT: '1000' });
    const a = await followersOfA(j.url, 100);
    expect(a.served).toBe(50);
    for (const r of a.refusals) expect(r).toMatch(/^429 [\s\S]*too_many_connections_for_client[\s\S]*JARVIS_MAX_CONNECTIONS_PER_CLIENT/);
    await keyBGetsItsAnswers(j.url);
  }, 60_000);

  it('key A allowed every connection holds all 100: its 101st is 429 naming JARVIS_MAX_CONNECTIONS, and key B is served in place of A’s oldest', async () => {
    j = await startTestJarvis({ ...KEYS, JARVIS_MAX_CONNECTIONS: '100', JARVIS_MAX_FOLLOWERS_PER_CLIENT: '1000', JARVIS_MAX_CONNECTIONS_PER_CLIENT: '100' });
    const a = await followersOfA(j.url, 100);
    expect(a.served).toBe(100);
    const the101st = await stalledGet(j.url, '/v1/conversations/events', auth(A));
    held.push(the101st);
    expect(the101st.status).toBe(429);
    expect(the101st.first).toMatch(/too_many_connections_for_client[\s\S]*JARVIS_MAX_CONNECTIONS=100/);
    await keyBGetsItsAnswers(j.url);
    await expect.poll(() => logLines(j!.logFile, 'connection_evicted')[0]).toMatchObject({ key: 'alice', held: '100', for_key: 'bob' });
  }, 60_000);
});

describe('streams between keys', () => {
  it('with JARVIS_MAX_STREAMS=4 and two keys, key A gets half, then 429 naming JARVIS_MAX_STREAMS_PER_CLIENT; key B still streams', async () => {
    j = await startTestJarvis({ ...KEYS, JARVIS_MAX_STREAMS: '4' });
    j.fake!.plan = (prompt) => ({ tokens: Array.from({ length: 2000 }, (_, i) => `${prompt}${i} `), tokenMs: 20 });
    const live = [0, 1].map((i) => chat(j!.url, { session: `a-${i}`, prompt: `a${i}`, headers: auth(A) }));
    await Promise.all(live.map((c) => c.firstToken()));
    const third = await fetch(`${j.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...auth(A), 'content-type': 'application/json', 'x-session-id': 'a-2' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'a2' }], stream: true }),
    });
    expect(third.status).toBe(429);
    expect(((await third.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'too_many_streams_for_client', message: expect.stringMatching(/JARVIS_MAX_STREAMS_PER_CLIENT/) });
    const b = chat(j.url, { session: 'b-0', prompt: 'b0', headers: auth(B) });
    await b.firstToken();
    expect(b.status).toBe(200);
    for (const c of [...live, b]) c.abort();
    await Promise.all([...live, b].map((c) => c.finished.catch(() => undefined)));
  }, 60_000);
});

describe('stream readers', () => {
  it('past JARVIS_MAX_READERS_PER_CLIENT a key’s next reader is 429; another key’s readers are served', async () => {
    j = await startTestJarvis({ ...KEYS, JARVIS_MAX_READERS_PER_CLIENT: '2' });
    j.fake!.plan = (prompt) => ({ tokens: Array.from({ length: 2000 }, (_, i) => `${prompt}${i} `), tokenMs: 20 });
    const streamOf = async (key: string, session: string) => {
      const live = chat(j!.url, { session, prompt: session, headers: auth(key) });
      held.push({ socket: { destroy: () => live.abort() } } as unknown as StalledClient);
      return live.streamId;
    };
    const aStream = await streamOf(A, 'a-stream');
    const path = `/v1/streams/${aStream}/events`;
    const aReaders = [await stalledGet(j.url, path, auth(A)), await stalledGet(j.url, path, auth(A))];
    held.push(...aReaders);
    expect(aReaders.map((r) => r.status)).toEqual([200, 200]);
    const third = await stalledGet(j.url, path, auth(A));
    held.push(third);
    expect(third.status).toBe(429);
    expect(third.first).toMatch(/too_many_readers_for_client[\s\S]*JARVIS_MAX_READERS_PER_CLIENT/);
    const bStream = await streamOf(B, 'b-stream');
    const bReader = await stalledGet(j.url, `/v1/streams/${bStream}/events`, auth(B));
    held.push(bReader);
    expect(bReader.status).toBe(200);
    // A reader that leaves gives its place back.
    aReaders[0]!.socket.destroy();
    await aReaders[0]!.closed;
    await expect.poll(async () => (await fetch(`${j!.url}${path}`, { headers: auth(A), signal: AbortSignal.timeout(5000) }).then((r) => (void r.body?.cancel(), r.status))), { timeout: 10_000 }).toBe(200);
  }, 60_000);

  it('200 stalled readers of a stream of 4 KB tokens: Jarvis holds a bounded piece per reader, not a slice of 4 MB', async () => {
    fake = await new FakeOllama().start();
    fake.plan = () => ({ tokens: Array.from({ length: 1500 }, (_, i) => `${String(i).padStart(6, '0')}${'t'.repeat(4090)}`), tokenMs: 0, burst: true });
    proc = await spawnJarvis({ ...KEYS, JARVIS_BACKEND: 'ollama', OLLAMA_HOST: fake.url, JARVIS_MAX_READERS_PER_CLIENT: '1000', JARVIS_MAX_CONNECTIONS_PER_CLIENT: '1000' });
    const answer = chat(proc.url, { session: 'big', prompt: 'big', headers: auth(A) });
    await answer.finished;
    expect(answer.terminal?.type).toBe('done');
    const before = rssMb(proc.proc.pid!);
    const readers = await stalledGets(200, proc.url, `/v1/streams/${await answer.streamId}/events`, auth(A));
    held.push(...readers);
    expect(readers.every((r) => r.status === 200)).toBe(true);
    // Each reader was handed its first slice (1,024 tokens, 4 MB) when it attached; what it holds is what it got.
    let peak = 0;
    for (let i = 0; i < 20; i++) {
      peak = Math.max(peak, rssMb(proc.proc.pid!));
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`200 stalled readers of 4 KB tokens: RSS ${before.toFixed(0)} MB → peak ${peak.toFixed(0)} MB`);
    // Unbounded: about 7 MB a reader (1.4 GB). Bounded: well under 1 MB a reader.
    expect(peak - before).toBeLessThan(200);
    // Key B is served meanwhile.
    expect((await call(proc.url, B, 'GET', '/v1/conversations')).status).toBe(200);
    // A reader that reads gets the whole answer through the pieces, in order, each token once, as SSE too.
    for (const accept of ['application/x-ndjson', 'text/event-stream']) {
      const text = await (await fetch(`${proc.url}/v1/streams/${await answer.streamId}/events?after=-1`, { headers: { ...auth(A), accept } })).text();
      const lines = text.split('\n').filter((l) => l.startsWith('{') || l.startsWith('data: '));
      const events = lines.map((l) => JSON.parse(l.replace(/^data: /, '')) as { type: string; seq?: number; text?: string });
      expect(events.filter((e) => e.type === 'token').map((e) => e.seq)).toEqual(Array.from({ length: 1500 }, (_, i) => i));
      expect(events.filter((e) => e.type === 'token').every((e, i) => e.text!.startsWith(String(i).padStart(6, '0')) && e.text!.length === 4096)).toBe(true);
      expect(events.at(-1)?.type).toBe('done');
      if (accept === 'text/event-stream') expect(text.match(/^id: (\S+)$/gm)?.slice(0, 3)).toEqual(['id: 0', 'id: 1', 'id: 2']);
    }
  }, 120_000);
});

describe('conversation-feed followers that do not read', () => {
  /** A follower of `key` that reads: the events it got. */
  function readingFollower(url: string, key: string): { events: any[] } {
    const events: any[] = [];
    const controller = new AbortController();
    void (async () => {
      const res = await fetch(`${url}/v1/conversations/events`, { headers: auth(key), signal: controller.signal });
      const splitter = new LineSplitter();
      for await (const chunk of res.body!) for (const line of splitter.push(chunk as Uint8Array)) events.push(JSON.parse(line));
    })().catch(() => {});
    held.push({ socket: { destroy: () => controller.abort() } } as unknown as StalledClient);
    return { events };
  }

  it('200 of them and two 900 KB updates: one encoding shared by all, not a copy per follower', async () => {
    proc = await spawnJarvis({ ...KEYS, JARVIS_BACKEND: 'demo', JARVIS_MAX_FOLLOWERS_PER_CLIENT: '1000', JARVIS_MAX_CONNECTIONS_PER_CLIENT: '1000' });
    const url = proc.url;
    const conv = (await call(url, A, 'POST', '/v1/conversations', { title: 'x' })).body as { id: string };
    const aReads = readingFollower(url, A);
    const stalled = await stalledGets(200, url, '/v1/conversations/events', auth(A));
    held.push(...stalled);
    expect(stalled.every((c) => c.status === 200)).toBe(true);
    await expect.poll(() => aReads.events.length).toBeGreaterThanOrEqual(1);

    const before = rssMb(proc.proc.pid!);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(proc!.proc.pid!))), 20);
    try {
      for (const fill of ['a', 'b']) expect((await call(url, A, 'PATCH', `/v1/conversations/${conv.id}`, { system: fill.repeat(900_000) })).status).toBe(200);
      await expect.poll(() => aReads.events.filter((e) => e.op === 'updated').length, { timeout: 20_000 }).toBe(2);
    } finally {
      clearInterval(sampler);
    }
    console.log(`200 stalled followers, two 900 KB updates: RSS ${before.toFixed(0)} MB → peak ${peak.toFixed(0)} MB`);
    // A copy per follower would be 200 × 900 KB for each update.
    expect(peak - before).toBeLessThan(100);
    expect(aReads.events.filter((e) => e.op === 'updated').map((e) => e.conversation.system.length)).toEqual([900_000, 900_000]);
    // Key B is served.
    expect((await call(url, B, 'GET', '/v1/conversations')).status).toBe(200);
  }, 120_000);

  it('one that stops reading is dropped past JARVIS_FOLLOWER_BUFFER_BYTES, logged once per event; its stream ends; readers keep every update', async () => {
    j = await startTestJarvis({ ...KEYS, JARVIS_BACKEND: 'demo' });
    const url = j.url;
    const conv = (await call(url, A, 'POST', '/v1/conversations', { title: 'x' })).body as { id: string };
    const aReads = readingFollower(url, A);
    const bReads = readingFollower(url, B);
    const stalled = await stalledGets(5, url, '/v1/conversations/events', auth(A));
    held.push(...stalled);
    // All seven follow: the stalled ones had their 200 (sent as they subscribe), the reading ones their `ready`.
    expect(stalled.every((c) => c.status === 200)).toBe(true);
    await expect.poll(() => Math.min(aReads.events.length, bReads.events.length)).toBeGreaterThanOrEqual(1);
    const droppedSoFar = () => logLines(j!.logFile, 'conversation_followers_dropped').reduce((n, l) => n + Number(l.dropped), 0);
    // The kernel takes some megabytes of each stalled connection first; then Jarvis's own buffer fills.
    let patches = 0;
    while (droppedSoFar() < 5 && patches < 60) {
      expect((await call(url, A, 'PATCH', `/v1/conversations/${conv.id}`, { system: String(patches).repeat(900_000) })).status).toBe(200);
      patches++;
      // The follower that reads has each update before the next: it is never behind, never dropped.
      await expect.poll(() => aReads.events.filter((e) => e.op === 'updated').length, { timeout: 20_000 }).toBe(patches);
    }
    console.log(`5 stalled followers dropped after ${patches} updates of 900 KB`);
    const dropped = logLines(j.logFile, 'conversation_followers_dropped');
    expect(dropped.reduce((n, l) => n + Number(l.dropped), 0)).toBe(5);
    expect(dropped.length).toBeLessThanOrEqual(2);
    expect(dropped[0]).toMatchObject({ key: 'alice', max_buffer_bytes: String(1 << 20) });
    // A dropped follower that reads again finds its stream ended (and reconnects).
    for (const s of stalled) s.socket.resume();
    await Promise.all(stalled.map((s) => s.closed));
    // The one that reads got every update, whole; key B's is still there.
    expect(aReads.events.filter((e) => e.op === 'updated').every((e, i) => e.conversation.system === String(i).repeat(900_000))).toBe(true);
    const created = (await call(url, B, 'POST', '/v1/conversations', { title: 'b' })).body as { id: string };
    await expect.poll(() => bReads.events.some((e) => e.op === 'created' && e.conversation_id === created.id)).toBe(true);
  }, 120_000);
});

describe('configuration', () => {
  it('reads the fair-share bounds, with defaults from the caps (half of each with two keys or more), and refuses bad values', () => {
    const twoKeys = loadConfig({ ...KEYS, JARVIS_MAX_CONNECTIONS: '101', JARVIS_MAX_STREAMS: '9' }).limits;
    expect(twoKeys).toMatchObject({ maxConnectionsPerClient: 51, maxStreamsPerClient: 5 });
    // One key, or none: nobody else to leave room for.
    expect(loadConfig({ JARVIS_API_KEYS: `alice:${A}`, JARVIS_MAX_CONNECTIONS: '101', JARVIS_MAX_STREAMS: '9' }).limits).toMatchObject({ maxConnectionsPerClient: 101, maxStreamsPerClient: 9 });
    const defaults = loadConfig({ JARVIS_MAX_CONNECTIONS: '101', JARVIS_MAX_STREAMS: '9' }).limits;
    expect(defaults).toMatchObject({
      maxConnectionsPerClient: 101,
      maxStreamsPerClient: 9,
      maxFollowersPerClient: 32,
      maxReadersPerClient: 64,
      followerBufferBytes: 1 << 20,
      readerBufferBytes: 64 * 1024,
    });
    const set = loadConfig({
      JARVIS_MAX_CONNECTIONS_PER_CLIENT: '7',
      JARVIS_MAX_FOLLOWERS_PER_CLIENT: '3',
      JARVIS_MAX_READERS_PER_CLIENT: '4',
      JARVIS_FOLLOWER_BUFFER_BYTES: '2048',
      JARVIS_READER_BUFFER_BYTES: '4096',
    }).limits;
    expect(set).toMatchObject({ maxConnectionsPerClient: 7, maxFollowersPerClient: 3, maxReadersPerClient: 4, followerBufferBytes: 2048, readerBufferBytes: 4096 });
    expect(() => loadConfig({ JARVIS_MAX_FOLLOWERS_PER_CLIENT: '0' })).toThrow(/JARVIS_MAX_FOLLOWERS_PER_CLIENT must be an integer >= 1/);
    expect(() => loadConfig({ JARVIS_READER_BUFFER_BYTES: '100' })).toThrow(/JARVIS_READER_BUFFER_BYTES must be an integer >= 1024/);
    expect(() => loadConfig({ JARVIS_MAX_CONNECTIONS_PER_CLIENT: 'half' })).toThrow(/JARVIS_MAX_CONNECTIONS_PER_CLIENT/);
  });
});
