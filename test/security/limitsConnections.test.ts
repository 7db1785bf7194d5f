import http from 'node:http';
import net from 'node:net';
import OpenAI, { RateLimitError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { chat } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';

// Connections and stream caps (docs/limits.md): a connection that sends nothing, or drips
// its headers, is closed; idle kept-alive connections are closed; at the connection
// cap /health still answers; past the stream caps, 429 with Retry-After.

let j: TestJarvis;
const raw: net.Socket[] = [];
afterEach(async () => {
  for (const s of raw.splice(0)) s.destroy();
  await j?.close();
});

/** A raw TCP connection; resolves with it once connected. `closed` resolves with the ms it stayed open. */
interface RawConnection {
  socket: net.Socket;
  /** Resolves with how long the connection stayed open. */
  closed: Promise<number>;
}

function connect(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const opened = performance.now();
    const socket = net.connect({ host: hostname, port: Number(port) });
    const closed = new Promise<number>((r) => socket.once('close', () => r(performance.now() - opened)));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
    raw.push(socket);
  });
}

const slow = (prompt: string) => ({ tokens: Array.from({ length: 2000 }, (_, i) => `${prompt}#${i} `), tokenMs: 20 });

/** One HTTP request on a connection of its own. */
function getOnce(url: string, localAddress?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, ...(localAddress ? { localAddress } : {}) }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

describe('connection limits', () => {
  it('closes a connection that sends nothing and one that drips its headers, within 10 s (defaults)', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'demo' });
    const idle = await connect(j.url);
    const drip = await connect(j.url);
    drip.socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n');
    const dripper = setInterval(() => drip.socket.writable && drip.socket.write('X-A: b\r\n'), 300);
    try {
      const [idleMs, dripMs] = await Promise.all([idle.closed, drip.closed]);
      console.log(`idle connection closed after ${idleMs.toFixed(0)} ms, dripping one after ${dripMs.toFixed(0)} ms`);
      expect(idleMs).toBeLessThan(10_000);
      expect(dripMs).toBeLessThan(10_000);
    } finally {
      clearInterval(dripper);
    }
    // The server goes on.
    expect((await getOnce(`${j.url}/health`)).status).toBe(200);
  }, 20_000);

  it('closes an idle kept-alive connection after JARVIS_KEEPALIVE_TIMEOUT_MS', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'demo', JARVIS_KEEPALIVE_TIMEOUT_MS: '300' });
    const conn = await connect(j.url);
    conn.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => conn.socket.once('data', r));
    expect(await conn.closed).toBeLessThan(5000);
  });

  it('at the connection cap, idle connections make room and /health still answers when every connection is busy', async () => {
    j = await startTestJarvis({ JARVIS_MAX_CONNECTIONS: '10' });
    j.fake!.plan = slow;
    // Ten idle connections fill the cap; the next connection closes them and is served.
    const idle = await Promise.all(Array.from({ length: 10 }, () => connect(j.url)));
    expect((await getOnce(`${j.url}/health`)).status).toBe(200);
    await Promise.all(idle.map((s) => s.closed));

    // Ten live streams fill it with busy connections.
    const streams = Array.from({ length: 10 }, (_, i) => chat(j.url, { session: `cap-${i}`, prompt: `p${i}` }));
    await Promise.all(streams.map((s) => s.firstToken()));
    const health = await getOnce(`${j.url}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.connection).toBe('close');
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', active_streams: 10 });
    // Anything else on a connection past the cap is refused, not queued.
    const models = await getOnce(`${j.url}/v1/models`);
    expect(models.status).toBe(503);
    expect(models.headers['retry-after']).toBe('1');
    expect(JSON.parse(models.body)).toMatchObject({ error: { code: 'server_busy', type: 'server_error', param: null } });
    for (const s of streams) s.abort();
    await Promise.all(streams.map((s) => s.finished));
  });
});

describe('stream caps', () => {
  function client(t: TestJarvis, session: string): OpenAI {
    return new OpenAI({ baseURL: `${t.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'X-Session-Id': session } });
  }

  it('per client: the third live stream gets 429 with Retry-After and an OpenAI error; a supersede is not refused', async () => {
    j = await startTestJarvis({ JARVIS_MAX_STREAMS_PER_CLIENT: '2' });
    j.fake!.plan = slow;
    const a = chat(j.url, { session: 'cap-a', prompt: 'A' });
    const b = chat(j.url, { session: 'cap-b', prompt: 'B' });
    await Promise.all([a.firstToken(), b.firstToken()]);

    const refused = await client(j, 'cap-c')
      .chat.completions.create({ model: 'fake-llama:latest', messages: [{ role: 'user', content: 'C' }], stream: true })
      .then(() => undefined, (err: unknown) => err);
    expect(refused).toBeInstanceOf(RateLimitError);
    const err = refused as RateLimitError;
    expect(err.status).toBe(429);
    expect(err.headers?.get('retry-after')).toMatch(/^\d+$/);
    expect(err.error).toMatchObject({ code: 'too_many_streams_for_client', type: 'rate_limit_error', param: null });
    expect(err.message).toMatch(/JARVIS_MAX_STREAMS_PER_CLIENT/);

    // A new prompt on a session with a live stream replaces it.
    const a2 = chat(j.url, { session: 'cap-a', prompt: 'A2' });
    await a2.firstToken();
    expect(a2.status).toBe(200);
    await a.finished;
    expect(a.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });

    // Room again once a stream has ended.
    b.abort();
    await b.finished;
    await expect.poll(async () => ((await fetch(`${j.url}/health`).then((r) => r.json())) as { active_streams: number }).active_streams).toBe(1);
    const c = chat(j.url, { session: 'cap-c', prompt: 'C' });
    await c.firstToken();
    a2.abort();
    c.abort();
    await Promise.all([a2.finished, c.finished]);
  });

  it('with API keys the per-client cap counts per key: one key at its cap, another key on the same address still streams', async () => {
    const alice = 'alice-key-0123456789abcdef';
    const bob = 'bob-key-0123456789abcdefgh';
    j = await startTestJarvis({ JARVIS_MAX_STREAMS_PER_CLIENT: '1', JARVIS_API_KEYS: `alice:${alice},bob:${bob}` });
    j.fake!.plan = slow;
    const a = chat(j.url, { session: 'k-a', prompt: 'A', headers: { authorization: `Bearer ${alice}` } });
    await a.firstToken();
    const refused = chat(j.url, { session: 'k-a2', prompt: 'A2', headers: { authorization: `Bearer ${alice}` } });
    await refused.finished.catch(() => undefined);
    expect(refused.status).toBe(429);
    const b = chat(j.url, { session: 'k-b', prompt: 'B', headers: { authorization: `Bearer ${bob}` } });
    await b.firstToken();
    expect(b.status).toBe(200);
    a.abort();
    b.abort();
    await Promise.all([a.finished, b.finished]);
  });

  it('global: past JARVIS_MAX_STREAMS every client gets 429', async () => {
    j = await startTestJarvis({ JARVIS_MAX_STREAMS: '2', JARVIS_MAX_STREAMS_PER_CLIENT: '2' });
    j.fake!.plan = slow;
    const a = chat(j.url, { session: 'g-a', prompt: 'A' });
    await a.firstToken();
    // A second client (another loopback address) takes the last slot, then is refused.
    const body = JSON.stringify({ messages: [{ role: 'user', content: 'B' }] });
    const post = (session: string) =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.request(`${j.url}/v1/chat/completions`, { method: 'POST', localAddress: '127.0.0.2', agent: false, headers: { 'content-type': 'application/json', accept: 'application/x-ndjson', 'x-session-id': session } }, resolve);
        req.on('error', reject);
        req.end(body);
      });
    const b = await post('g-b');
    expect(b.statusCode).toBe(200);
    const c = await post('g-c');
    expect(c.statusCode).toBe(429);
    expect(c.headers['retry-after']).toMatch(/^\d+$/);
    let text = '';
    for await (const chunk of c) text += chunk;
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'too_many_streams', type: 'rate_limit_error' } });
    b.destroy();
    a.abort();
    await a.finished;
  });
});
