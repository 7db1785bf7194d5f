import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JarvisEvent } from '../../../src/shared/events.js';
import { startTestJarvis, type TestJarvis } from '../../../test/helpers/jarvisServer.js';
import type { Api } from './api.js';
import { streamChat, type StreamFailure, type StreamOutcome } from './stream.js';

// stream.ts against byte streams recorded from a real Jarvis (fixtures/, recorded from the
// demo backend; and recorded live from a Jarvis in front of the fake Ollama below), replayed
// through a real Response/ReadableStream cut at arbitrary byte boundaries.

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));

interface Seen {
  calls: string[];
  text: string;
  ids: Set<string>;
  failure?: StreamFailure;
  failureStreamId?: string | null;
  outcome?: StreamOutcome;
}

/** A network that answers every request with these bytes, delivered in the given pieces. */
function replay(bytes: Uint8Array, cuts: number[], init: ResponseInit = { status: 200, headers: { 'content-type': 'application/x-ndjson' } }) {
  const requests: Array<{ url: string; init: RequestInit | undefined }> = [];
  const api: Api = {
    base: 'http://jarvis.test',
    fetch: async (url, reqInit) => {
      requests.push({ url: String(url), init: reqInit });
      const points = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), bytes.length)))].sort((a, b) => a - b);
      const pieces: Uint8Array[] = [];
      let at = 0;
      for (const p of [...points, bytes.length]) {
        if (p > at) pieces.push(bytes.slice(at, p));
        at = p;
      }
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = pieces.shift();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      });
      return new Response(body, init);
    },
  };
  return { api, requests };
}

async function run(api: Api, model: string | null = 'm1'): Promise<Seen> {
  const seen: Seen = { calls: [], text: '', ids: new Set() };
  seen.outcome = await streamChat(api, { sessionId: 'sess-1', messages: [{ role: 'user', content: 'hi' }], model: model ?? undefined }, {
    onStatus: (e, id) => { seen.calls.push(`status:${e.status}`); seen.ids.add(id); },
    onDelta: (text, id) => { seen.calls.push('delta'); seen.text += text; seen.ids.add(id); },
    onDone: (e, id) => { seen.calls.push(`done:${e.reason}`); seen.ids.add(id); },
    onCancelled: (e, id) => { seen.calls.push(`cancelled:${e.reason}`); seen.ids.add(id); },
    onError: (f, id) => { seen.calls.push(`error:${f.code}`); seen.failure = f; seen.failureStreamId = id; },
  });
  return seen;
}

/** What a correct reader must report for a recording: computed from the recording itself. */
function expected(bytes: Uint8Array) {
  const events = new TextDecoder().decode(bytes).split('\n').filter(Boolean).map((l) => JSON.parse(l) as JarvisEvent);
  const calls = events.map((e) => (e.type === 'status' ? 'status:thinking' : e.type === 'token' ? 'delta' : e.type === 'error' ? `error:${e.code}` : e.type === 'done' || e.type === 'cancelled' ? `${e.type}:${e.reason}` : e.type));
  const text = events.map((e) => (e.type === 'token' ? e.text : '')).join('');
  return { calls, text, streamId: events[0]!.stream_id };
}

const cutsFor = (bytes: Uint8Array) => fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 60 });

describe('streamChat over recorded streams', () => {
  for (const name of ['demo-done.ndjson', 'demo-superseded.ndjson']) {
    it(`${name}: same callbacks however the bytes are chunked`, async () => {
      const bytes = fixture(name);
      const want = expected(bytes);
      expect(want.text).not.toBe('');
      await fc.assert(
        fc.asyncProperty(cutsFor(bytes), async (cuts) => {
          const seen = await run(replay(bytes, cuts).api);
          expect(seen.calls).toEqual(want.calls);
          expect(seen.text).toBe(want.text);
          expect([...seen.ids]).toEqual([want.streamId]);
        }),
        { numRuns: 150 },
      );
    });
  }

  it('decodes multi-byte UTF-8 split inside a character (one byte per chunk)', async () => {
    const bytes = fixture('demo-done.ndjson');
    const text = new TextDecoder().decode(bytes);
    for (const s of ['ü', 'ö', '🙂', '—', '日本語']) expect(text).toContain(s); // 2-, 4- and 3-byte characters
    const seen = await run(replay(bytes, Array.from({ length: bytes.length }, (_, i) => i)).api);
    expect(seen.text).toBe(expected(bytes).text);
    expect(seen.text).toContain('Grüße aus Köln 🙂 — 日本語で');
    expect(seen.text).not.toContain('\uFFFD');
  });

  it('handles every event arriving in one chunk', async () => {
    const bytes = fixture('demo-done.ndjson');
    const seen = await run(replay(bytes, []).api);
    expect(seen.calls).toEqual(expected(bytes).calls);
    expect(seen.outcome).toBe('done');
  });

  it('sends the session header, the messages and the model', async () => {
    const { api, requests } = replay(fixture('demo-done.ndjson'), []);
    await run(api);
    expect(requests).toHaveLength(1);
    const { url, init } = requests[0]!;
    expect(url).toBe('http://jarvis.test/v1/chat/completions');
    expect(init?.method).toBe('POST');
    expect(new Headers(init?.headers).get('x-session-id')).toBe('sess-1');
    expect(JSON.parse(String(init?.body))).toEqual({ messages: [{ role: 'user', content: 'hi' }], model: 'm1' });
  });
});

describe('streamChat failures', () => {
  const line = (e: object) => JSON.stringify({ stream_id: 's1', session_id: 'sess-1', ...e }) + '\n';
  const bytesOf = (...lines: string[]) => new TextEncoder().encode(lines.join(''));

  it('reports the server error event with its stream id', async () => {
    const seen = await run(replay(bytesOf(line({ type: 'status', status: 'thinking' })), []).api);
    // The recording above has no terminal event: the reader must say the answer broke off.
    expect(seen.calls).toEqual(['status:thinking', 'error:connection_lost']);
    expect(seen.failureStreamId).toBe('s1');

    const withError = await run(replay(bytesOf(line({ type: 'status', status: 'thinking' }), line({ type: 'error', code: 'upstream_unavailable', message: 'Ollama is down' })), []).api);
    expect(withError.calls).toEqual(['status:thinking', 'error:upstream_unavailable']);
    expect(withError.failure).toMatchObject({ message: 'Ollama is down', fromServer: true });
    expect(withError.outcome).toBe('error');
  });

  it('reports an HTTP error with the code and message of its JSON body', async () => {
    const body = new TextEncoder().encode(JSON.stringify({ error: { code: 'no_model', message: 'pull a model first' } }));
    const seen = await run(replay(body, [], { status: 400, headers: { 'content-type': 'application/json' } }).api);
    expect(seen.calls).toEqual(['error:no_model']);
    expect(seen.failure).toMatchObject({ message: 'pull a model first', fromServer: false });
    expect(seen.failureStreamId).toBeNull();
  });

  it('stops at a line that is not an event, and skips event types it does not know', async () => {
    const seen = await run(replay(bytesOf(line({ type: 'status', status: 'thinking' }), line({ type: 'progress', pct: 5 }), line({ type: 'token', text: 'a', seq: 0 }), '<html>502 Bad Gateway</html>\n', line({ type: 'token', text: 'b', seq: 1 })), []).api);
    expect(seen.calls).toEqual(['status:thinking', 'delta', 'error:bad_stream']);
    expect(seen.text).toBe('a');
  });

  it('reports a network failure', async () => {
    const api: Api = { base: 'http://127.0.0.1:9', fetch: (...a) => fetch(...a) };
    const seen = await run(api);
    expect(seen.calls).toEqual(['error:network_error']);
  });
});

describe('streamChat against a real Jarvis', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis();
  });
  afterAll(async () => {
    await j.close();
  });
  const api = (): Api => ({ base: j.url, fetch: (...a) => fetch(...a) });

  it('reads a live answer with UTF-8 tokens; the recording replays identically under any chunking', async () => {
    j.fake!.plan = () => ({ tokens: ['Grü', 'ße ', '🙂', ' 日本', '語'], tokenMs: 2 });
    const seen = await run(api(), null);
    expect(seen.calls).toEqual(['status:thinking', 'delta', 'delta', 'delta', 'delta', 'delta', 'done:stop']);
    expect(seen.text).toBe('Grüße 🙂 日本語');

    const raw = await fetch(`${j.url}/v1/chat/completions`, { method: 'POST', headers: { 'x-session-id': 'rec-live' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }) });
    const bytes = new Uint8Array(await raw.arrayBuffer());
    const want = expected(bytes);
    expect(want.text).toBe('Grüße 🙂 日本語');
    await fc.assert(
      fc.asyncProperty(cutsFor(bytes), async (cuts) => {
        const replayed = await run(replay(bytes, cuts).api);
        expect(replayed.calls).toEqual(want.calls);
        expect(replayed.text).toBe(want.text);
      }),
      { numRuns: 100 },
    );
  });

  it('aborting through the signal ends the read without a terminal callback, and the server stops upstream', async () => {
    j.fake!.plan = (prompt) => ({ tokens: Array.from({ length: 400 }, (_, i) => `${prompt}#${i} `), tokenMs: 10 });
    const controller = new AbortController();
    const seen: Seen = { calls: [], text: '', ids: new Set() };
    const outcome = streamChat(api(), { sessionId: 'abort-1', messages: [{ role: 'user', content: 'slow' }], signal: controller.signal }, {
      onDelta: (t) => {
        seen.text += t;
        if (seen.text.includes('slow#2 ')) controller.abort();
      },
      onDone: () => seen.calls.push('done'),
      onCancelled: () => seen.calls.push('cancelled'),
      onError: () => seen.calls.push('error'),
    });
    expect(await outcome).toBe('aborted');
    expect(seen.calls).toEqual([]);
    const upstream = await j.fake!.waitForRequest((r) => r.prompt === 'slow');
    await upstream.closed;
    expect(upstream.aborted).toBe(true);
  });
});
