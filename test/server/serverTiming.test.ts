import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';
import { postChat } from '../helpers/openaiWire.js';

// `Server-Timing` on every reply (docs/api.md): Jarvis's
// own time to the upstream request and to the first byte it forwarded, the model's
// time in between, and the same figures on the stream_end log line.

let j: TestJarvis;
afterEach(async () => {
  await j?.close();
});

/** `name;dur=1.2;desc="…", …` → { name: 1.2 }. */
function timings(value: string | string[] | undefined): Record<string, number> {
  if (Array.isArray(value)) value = value.join(', ');
  const out: Record<string, number> = {};
  for (const part of (value ?? '').split(',')) {
    const m = /^\s*([A-Za-z0-9_]+)(?:;[^,]*?dur=([0-9.]+))?/.exec(part);
    if (m?.[1]) out[m[1]] = Number(m[2]);
  }
  return out;
}

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  trailers: NodeJS.Dict<string>;
  body: string;
}

/** fetch() does not expose trailers: node:http does. */
function request(url: string, body: unknown, headers: Record<string, string>, path = '/v1/chat/completions'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const body = (extra: Record<string, unknown> = {}) => ({ model: 'fake-llama:latest', messages: [{ role: 'user', content: 'hi' }], ...extra });
/** The fake model thinks 150 ms before its first token: that time is the upstream's, not Jarvis's. */
const thinking = () => ({ tokens: ['a ', 'b ', 'c '], tokenMs: 1, firstTokenMs: 150 });

/** The full set, consistent: the model's 150 ms counted as the upstream's, Jarvis's share the rest. */
function expectFullSet(t: Record<string, number>): void {
  expect(Object.keys(t)).toEqual(expect.arrayContaining(['upstream_request', 'upstream', 'first_byte', 'jarvis']));
  expect(t.upstream).toBeGreaterThanOrEqual(145);
  expect(t.upstream_request).toBeGreaterThanOrEqual(0);
  // Request → first byte is Jarvis before the upstream request, the model, and Jarvis after it.
  expect(t.first_byte! + 0.02).toBeGreaterThanOrEqual(t.upstream_request! + t.upstream!);
  expect(t.jarvis).toBeCloseTo(t.first_byte! - t.upstream!, 1);
}

describe('Server-Timing', () => {
  it('SSE: the figures known with the first token in the headers, all of them in the trailer, the same on stream_end', async () => {
    j = await startTestJarvis();
    j.fake!.plan = thinking;
    const res = await request(j.url, body({ stream: true }), { 'x-session-id': 'timing-sse' });
    expect(res.status).toBe(200);
    expect(res.headers.trailer).toBe('Server-Timing');
    expectFullSet(timings(res.headers['server-timing']));
    const trailer = timings(res.trailers['server-timing']);
    expectFullSet(trailer);
    expect(trailer.total).toBeGreaterThanOrEqual(trailer.first_byte!);

    const end = await waitForLog(j.logFile, 'stream_end', { session: 'timing-sse' });
    expect(Number(end.fields.upstream_request_ms)).toBeCloseTo(trailer.upstream_request!, 1);
    expect(Number(end.fields.upstream_ms)).toBeCloseTo(trailer.upstream!, 1);
    expect(Number(end.fields.first_byte_ms)).toBeCloseTo(trailer.first_byte!, 1);
    expect(Number(end.fields.jarvis_ms)).toBeCloseTo(trailer.jarvis!, 1);
  });

  it('NDJSON: headers leave before the upstream is asked, so they carry `headers`; the trailer has the rest', async () => {
    j = await startTestJarvis();
    j.fake!.plan = thinking;
    const res = await request(j.url, body(), { accept: 'application/x-ndjson', 'x-session-id': 'timing-ndjson' });
    expect(res.body.trim().split('\n').at(-1)).toContain('"type":"done"');
    expect(Object.keys(timings(res.headers['server-timing']))).toEqual(['headers']);
    expect(res.headers.trailer).toBe('Server-Timing');
    expectFullSet(timings(res.trailers['server-timing']));
    const end = await waitForLog(j.logFile, 'stream_end', { session: 'timing-ndjson' });
    expect(Number(end.fields.upstream_ms)).toBeGreaterThanOrEqual(145);
  });

  it('"stream": false: the reply is complete when its headers leave, so all figures are in the headers', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'openai' });
    j.fake!.plan = thinking;
    const res = await postChat(j.url, body({ stream: false }), { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    const t = timings(res.headers.get('server-timing') ?? undefined);
    expectFullSet(t);
    expect(t.total).toBeGreaterThanOrEqual(t.first_byte!);
    await res.text();
  });

  it("Ollama's /api/chat: streamed lines get the trailer, `stream: false` the header", async () => {
    j = await startTestJarvis();
    j.fake!.plan = thinking;
    const streamed = await request(j.url, body(), { 'x-session-id': 'timing-ollama' }, '/api/chat');
    expect(streamed.status).toBe(200);
    expect(streamed.body.trim().split('\n').at(-1)).toContain('"done":true');
    expect(streamed.headers.trailer).toBe('Server-Timing');
    expectFullSet(timings(streamed.trailers['server-timing']));
    const whole = await request(j.url, body({ stream: false }), {}, '/api/chat');
    expect(whole.status).toBe(200);
    expectFullSet(timings(whole.headers['server-timing']));
  });

  it('the demo backend has no upstream: the first byte only', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'demo' });
    const res = await request(j.url, { messages: [{ role: 'user', content: 'hi' }], stream: true }, {});
    const t = timings(res.trailers['server-timing']);
    expect(t.first_byte).toBeGreaterThan(0);
    expect(t.upstream).toBeUndefined();
    expect(t.jarvis).toBeUndefined();
  });

  it('every other reply, errors included, carries its total', async () => {
    j = await startTestJarvis();
    for (const res of [await fetch(`${j.url}/health`), await fetch(`${j.url}/v1/models`), await postChat(j.url, '{', { 'content-type': 'application/json' }), await fetch(`${j.url}/nowhere`)]) {
      expect(res.headers.get('server-timing'), res.url).toMatch(/^total;dur=\d+(\.\d+)?$/);
      await res.arrayBuffer();
    }
  });

  it('an HTTP/1.0 client (no chunked encoding, so no trailer) still gets its whole stream', async () => {
    j = await startTestJarvis();
    const { port } = new URL(j.url);
    const payload = JSON.stringify(body());
    const socket = net.connect(Number(port), '127.0.0.1');
    // write, not end: a client that half-closes has gone, as far as Jarvis is concerned.
    socket.write(`POST /v1/chat/completions HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\nAccept: application/x-ndjson\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`);
    let raw = '';
    for await (const chunk of socket) raw += String(chunk);
    const [head, rest = ''] = raw.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head).toMatch(/\r\nserver-timing: headers;dur=/i);
    expect(head).not.toMatch(/\r\ntrailer:/i);
    expect(rest.trim().split('\n').at(-1)).toContain('"type":"done"');
  });
});
