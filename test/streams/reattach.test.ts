import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { api, newConversation, readStream, sendMessage, settledConversation, type StreamReader } from '../helpers/streamReader.js';

// Reattach (docs/conversations.md): GET /v1/streams/{id}/events?after=<seq>, NDJSON or SSE,
// any number of readers; what a reader got before a drop plus what it gets after
// reattaching is exactly the stored answer.

let j: TestJarvis;
beforeAll(async () => {
  j = await startTestJarvis({ JARVIS_STREAM_RETENTION_MS: '1500' });
});
afterAll(async () => {
  await j.close();
});

const tokensOf = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}#${i} `);

/** Drops `reader` once it has `k` tokens; returns the tokens it kept (as a client would, by seq). */
async function dropAfter(reader: StreamReader, k: number): Promise<Array<{ seq: number; text: string }>> {
  if (k > 0) await reader.tokensReached(k);
  reader.abort();
  await reader.finished;
  return reader.tokens;
}

describe('reattach by seq', () => {
  it('drop at a random seq, reattach after the last seq received: nothing lost, nothing twice, equal to the stored answer', async () => {
    j.fake!.plan = (p) => ({ tokens: tokensOf(p, 80), tokenMs: 3 });
    for (let run = 0; run < 12; run++) {
      const id = await newConversation(j.url);
      const k = Math.floor(Math.random() * 80);
      const first = sendMessage(j.url, id, { content: `drop-${run}` });
      await first.waitFor((e) => e.type === 'status');
      const streamId = first.streamId!;
      const before = await dropAfter(first, k);
      const after = before.at(-1)?.seq ?? -1;
      const second = readStream(j.url, streamId, after);
      await second.finished;
      expect(second.status).toBe(200);
      const all = [...before, ...second.tokens];
      expect(all.map((t) => t.seq)).toEqual([...Array(80).keys()]);
      expect(second.events.filter((e) => ['done', 'cancelled', 'error'].includes(e.type))).toHaveLength(1);
      expect(second.events.at(-1)?.type).toBe('done');
      const conv = await settledConversation(j.url, id);
      expect(all.map((t) => t.text).join('')).toBe(conv.messages[1].content);
      expect(conv.messages[1].content).toBe(tokensOf(`drop-${run}`, 80).join(''));
    }
  });

  it('reattaches before the first token (while the model is still thinking)', async () => {
    j.fake!.plan = (p) => ({ tokens: tokensOf(p, 5), tokenMs: 2, firstTokenMs: 300 });
    const id = await newConversation(j.url);
    const first = sendMessage(j.url, id, { content: 'early' });
    await first.waitFor((e) => e.type === 'status');
    first.abort();
    const again = readStream(j.url, first.streamId!, -1);
    await again.finished;
    expect(again.tokens.map((t) => t.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(again.terminal?.type).toBe('done');
  });

  it('serves any number of readers at once, each from its own position', async () => {
    j.fake!.plan = (p) => ({ tokens: tokensOf(p, 100), tokenMs: 2 });
    const id = await newConversation(j.url);
    const origin = sendMessage(j.url, id, { content: 'many' });
    await origin.tokensReached(30);
    const afters = [undefined, -1, 0, 10, 29, 50, 99];
    const readers = afters.map((a) => readStream(j.url, origin.streamId!, a));
    await Promise.all([origin.finished, ...readers.map((r) => r.finished)]);
    readers.forEach((r, i) => {
      const a = afters[i];
      const from = a === undefined ? 0 : a + 1;
      expect(r.tokens.map((t) => t.seq)).toEqual(Array.from({ length: 100 - from }, (_, x) => x + from));
      expect(r.events[0]?.type).toBe(a === undefined ? 'status' : from < 100 ? 'token' : 'done');
      expect(r.events.at(-1)?.type).toBe('done');
    });
  });

  it('a resumed stream can be stopped, and its readers see the stop', async () => {
    j.fake!.plan = (p) => ({ tokens: tokensOf(p, 500), tokenMs: 5 });
    const id = await newConversation(j.url);
    const first = sendMessage(j.url, id, { content: `resumed-stop-${id}` });
    const before = await dropAfter(first, 3);
    const resumed = readStream(j.url, first.streamId!, before.at(-1)!.seq);
    await resumed.tokensReached(before.length + 2);
    expect((await api(j.url, 'POST', `/v1/conversations/${id}/stop`)).body).toMatchObject({ stopped: true });
    await resumed.finished;
    expect(resumed.terminal).toMatchObject({ type: 'cancelled', reason: 'stopped' });
    const upstream = await j.fake!.waitForRequest((r) => r.prompt === `resumed-stop-${id}`);
    await upstream.closed;
    expect(upstream.aborted).toBe(true);
    const conv = await settledConversation(j.url, id);
    expect(conv.messages[1]).toMatchObject({ state: 'stopped', content: [...before, ...resumed.tokens].map((t) => t.text).join('') });
  });

  it('SSE: id is the seq, Last-Event-ID resumes, and a reader that has the end gets 204', async () => {
    j.fake!.plan = (p) => ({ tokens: tokensOf(p, 6), tokenMs: 1 });
    const id = await newConversation(j.url);
    const origin = sendMessage(j.url, id, { content: 'sse' });
    await origin.finished;
    const sid = origin.streamId!;
    const sse = async (headers: Record<string, string>, query = '') => {
      const res = await fetch(`${j.url}/v1/streams/${sid}/events${query}`, { headers: { accept: 'text/event-stream', ...headers } });
      const text = await res.text();
      const events = [...text.matchAll(/^id: (\S+)\ndata: (.*)$/gm)].map((m) => ({ id: m[1], event: JSON.parse(m[2]!) }));
      return { status: res.status, type: res.headers.get('content-type'), events };
    };
    const all = await sse({});
    expect(all.type).toContain('text/event-stream');
    expect(all.events.map((e) => e.id)).toEqual(['-1', '0', '1', '2', '3', '4', '5', '5:1']);
    expect(all.events.map((e) => e.event.type)).toEqual(['status', 'token', 'token', 'token', 'token', 'token', 'token', 'done']);
    expect(all.events[1]!.event).toMatchObject({ type: 'token', seq: 0, stream_id: sid });
    // An EventSource reconnects with its original URL and Last-Event-ID: the header wins.
    const resumed = await sse({ 'last-event-id': '3' }, '?after=0');
    expect(resumed.events.map((e) => e.id)).toEqual(['4', '5', '5:1']);
    expect((await sse({ 'last-event-id': '5:1' })).status).toBe(204);
    expect((await fetch(`${j.url}/v1/streams/${sid}/events?after=5:1`)).status).toBe(204);
    // A reader with every token still gets the terminal event.
    const last = await fetch(`${j.url}/v1/streams/${sid}/events?after=5`);
    expect((await last.text()).trim().split('\n').map((l) => JSON.parse(l).type)).toEqual(['done']);
  });

  it('unknown, malformed and expired streams are 404 at once; a bad `after` is 400', async () => {
    for (const path of ['/v1/streams/0123456789abcdef/events', '/v1/streams/nope/events?after=3', '/v1/streams/0123456789abcdef']) {
      const res = await api(j.url, 'GET', path);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('stream_not_found');
    }
    j.fake!.plan = () => ({ tokens: ['x'], tokenMs: 1 });
    const id = await newConversation(j.url);
    const origin = sendMessage(j.url, id, { content: 'short-lived' });
    await origin.finished;
    const sid = origin.streamId!;
    for (const bad of ['abc', '-5', '1.5', '3:', ':1']) expect((await api(j.url, 'GET', `/v1/streams/${sid}/events?after=${bad}`)).status).toBe(400);
    const info = await api(j.url, 'GET', `/v1/streams/${sid}`);
    expect(info.body).toMatchObject({ stream_id: sid, session_id: id, state: 'ended', tokens: 1, last_seq: 0, cursor: '0:1', terminal: { type: 'done' } });
    // JARVIS_STREAM_RETENTION_MS is 1.5 s here: then the stream is gone, and says so.
    await expect.poll(async () => (await api(j.url, 'GET', `/v1/streams/${sid}/events`)).status, { timeout: 10_000, interval: 100 }).toBe(404);
  });

  it('resumes a thinking answer mid-reasoning by cursor (seq:n), and stores its reasoning', async () => {
    const thinking = Array.from({ length: 30 }, (_, i) => `think${i} `);
    j.fake!.plan = (p) => ({ thinking, tokens: tokensOf(p, 20), tokenMs: 3 });
    const id = await newConversation(j.url);
    const first = sendMessage(j.url, id, { content: 'think' });
    await first.waitFor((e) => e.type === 'reasoning' && e.seq >= 9);
    first.abort();
    await first.finished;
    // The client's cursor: its last token seq (-1: none yet) and the events since that token.
    const got = first.events.filter((e) => e.type !== 'status');
    const lastToken = got.findLastIndex((e) => e.type === 'token');
    const seq = lastToken < 0 ? -1 : (got[lastToken] as { seq: number }).seq;
    const cursor = `${seq}:${got.length - 1 - lastToken}`;
    const rest = readStream(j.url, first.streamId!, cursor);
    await rest.finished;
    const all = [...got, ...rest.events];
    expect(all.filter((e) => e.type === 'reasoning').map((e) => (e as { text: string }).text)).toEqual(thinking);
    expect(all.filter((e) => e.type === 'token').map((e) => (e as { seq: number }).seq)).toEqual([...Array(20).keys()]);
    expect(all.at(-1)?.type).toBe('done');
    const conv = await settledConversation(j.url, id);
    expect(conv.messages[1]).toMatchObject({ state: 'done', reasoning: thinking.join(''), content: tokensOf('think', 20).join(''), seq: 19, cursor: '19' });
  });

  it('a reader of a superseded stream gets its cancelled event', async () => {
    j.fake!.plan = (p) => ({ tokens: tokensOf(p, 400), tokenMs: 5 });
    const id = await newConversation(j.url);
    const first = sendMessage(j.url, id, { content: 'old' });
    const before = await dropAfter(first, 2);
    const follower = readStream(j.url, first.streamId!, before.at(-1)!.seq);
    await follower.tokensReached(before.length + 1);
    const second = sendMessage(j.url, id, { content: 'new' });
    await follower.finished;
    expect(follower.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    await api(j.url, 'POST', `/v1/conversations/${id}/stop`);
    await second.finished;
  });
});
