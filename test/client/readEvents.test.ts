import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JarvisEvent } from '../../src/shared/events.js';
import { dispatchEvent, type StreamFailure } from '../../src/client/answerEvents.js';
import { readAnswer } from '../../src/client/answerReader.js';
import type { Api } from '../../src/client/api.js';
import { isKnownEvent, readEvents } from '../../src/client/readEvents.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';

// readEvents, the one NDJSON read loop, over byte streams recorded from a real Jarvis
// (fixtures/, recorded from the demo backend; and recorded live from a Jarvis in front of
// the fake Ollama below), replayed through a real ReadableStream cut at arbitrary byte
// boundaries; then the callbacks the UI gets from them (docs/api.md).

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));

/** A real ReadableStream of these bytes, delivered in the given pieces. */
function bodyOf(bytes: Uint8Array, cuts: number[] = []): ReadableStream<Uint8Array> {
  const points = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), bytes.length)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    if (p > at) pieces.push(bytes.slice(at, p));
    at = p;
  }
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = pieces.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
}

async function collect(body: ReadableStream<Uint8Array>, signal?: AbortSignal, badLines: string[] = []): Promise<JarvisEvent[]> {
  const events: JarvisEvent[] = [];
  for await (const event of readEvents(body, signal, { onBadLine: (line) => badLines.push(line) })) events.push(event);
  return events;
}

/** The callbacks a reader of these events makes, as short words. */
function callsOf(events: JarvisEvent[]): { calls: string[]; text: string; ids: Set<string>; failure?: StreamFailure } {
  const seen: { calls: string[]; text: string; ids: Set<string>; failure?: StreamFailure } = { calls: [], text: '', ids: new Set() };
  for (const event of events) {
    if (!isKnownEvent(event)) continue;
    const outcome = dispatchEvent(event, {
      onStatus: (e, id) => { seen.calls.push(`status:${e.status}`); seen.ids.add(id); },
      onDelta: (text, id) => { seen.calls.push('delta'); seen.text += text; seen.ids.add(id); },
      onDone: (e, id) => { seen.calls.push(`done:${e.reason}`); seen.ids.add(id); },
      onCancelled: (e, id) => { seen.calls.push(`cancelled:${e.reason}`); seen.ids.add(id); },
      onError: (f, id) => { seen.calls.push(`error:${f.code}`); seen.failure = f; if (id) seen.ids.add(id); },
    });
    if (outcome) break;
  }
  return seen;
}

/** What a correct reader must yield for a recording: computed from the recording itself. */
function expected(bytes: Uint8Array) {
  const events = new TextDecoder().decode(bytes).split('\n').filter(Boolean).map((l) => JSON.parse(l) as JarvisEvent);
  const calls = events.map((e) => (e.type === 'status' ? 'status:thinking' : e.type === 'token' ? 'delta' : e.type === 'error' ? `error:${e.code}` : e.type === 'done' || e.type === 'cancelled' ? `${e.type}:${e.reason}` : e.type));
  const text = events.map((e) => (e.type === 'token' ? e.text : '')).join('');
  return { events, calls, text, streamId: events[0]!.stream_id };
}

const cutsFor = (bytes: Uint8Array) => fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 60 });

describe('readEvents over recorded streams', () => {
  for (const name of ['demo-done.ndjson', 'demo-superseded.ndjson']) {
    it(`${name}: the same events and callbacks however the bytes are chunked`, async () => {
      const bytes = fixture(name);
      const want = expected(bytes);
      expect(want.text).not.toBe('');
      await fc.assert(
        fc.asyncProperty(cutsFor(bytes), async (cuts) => {
          const events = await collect(bodyOf(bytes, cuts));
          expect(events).toEqual(want.events);
          const seen = callsOf(events);
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
    const seen = callsOf(await collect(bodyOf(bytes, Array.from({ length: bytes.length }, (_, i) => i))));
    expect(seen.text).toBe(expected(bytes).text);
    expect(seen.text).toContain('Grüße aus Köln 🙂 — 日本語で');
    expect(seen.text).not.toContain('\uFFFD');
  });

  it('handles every event arriving in one chunk', async () => {
    const bytes = fixture('demo-done.ndjson');
    const seen = callsOf(await collect(bodyOf(bytes)));
    expect(seen.calls).toEqual(expected(bytes).calls);
    expect(seen.calls.at(-1)).toBe('done:stop');
  });
});

describe('readEvents: what is not an event, and the end of the body', () => {
  const line = (e: object) => JSON.stringify({ stream_id: 's1', session_id: 'sess-1', ...e }) + '\n';
  const bytesOf = (...lines: string[]) => new TextEncoder().encode(lines.join(''));

  it('reports the server error event with its stream id', async () => {
    const seen = callsOf(await collect(bodyOf(bytesOf(line({ type: 'status', status: 'thinking' }), line({ type: 'error', code: 'upstream_unavailable', message: 'Ollama is down' })))));
    expect(seen.calls).toEqual(['status:thinking', 'error:upstream_unavailable']);
    expect(seen.failure).toMatchObject({ message: 'Ollama is down', fromServer: true });
    expect([...seen.ids]).toEqual(['s1']);
  });

  it('a line that is not a JSON object goes to onBadLine; an event type it does not know is yielded and not acted on', async () => {
    const bad: string[] = [];
    const events = await collect(bodyOf(bytesOf(line({ type: 'status', status: 'thinking' }), line({ type: 'progress', pct: 5 }), line({ type: 'token', text: 'a', seq: 0 }), '<html>502 Bad Gateway</html>\n', '[1,2]\n', line({ type: 'token', text: 'b', seq: 1 }))), undefined, bad);
    expect(bad).toEqual(['<html>502 Bad Gateway</html>', '[1,2]']);
    expect(events.map((e) => e.type)).toEqual(['status', 'progress', 'token', 'token']);
    expect(callsOf(events)).toMatchObject({ calls: ['status:thinking', 'delta', 'delta'], text: 'ab' });
  });

  it('a read error (a network drop) is thrown; an abort ends the iteration quietly', async () => {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const broken = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    const reading = collect(broken);
    controller.enqueue(bytesOf(line({ type: 'status', status: 'thinking' })));
    controller.error(new Error('socket hang up'));
    await expect(reading).rejects.toThrow('socket hang up');

    const abort = new AbortController();
    let seq = 0;
    const endless = new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(bytesOf(line({ type: 'token', text: 'x', seq: seq++ }))) });
    const got: JarvisEvent[] = [];
    for await (const event of readEvents(endless, abort.signal)) {
      got.push(event);
      abort.abort();
    }
    expect(got).toHaveLength(1);
  });
});

describe('readEvents against a real Jarvis', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis();
  });
  afterAll(async () => {
    await j.close();
  });

  const ask = (session: string, prompt: string, signal?: AbortSignal) =>
    fetch(`${j.url}/v1/chat/completions`, { method: 'POST', headers: { 'x-session-id': session, accept: 'application/x-ndjson' }, body: JSON.stringify({ messages: [{ role: 'user', content: prompt }] }), signal: signal ?? null });

  it('reads a live answer with UTF-8 tokens; the recording replays identically under any chunking', async () => {
    j.fake!.plan = () => ({ tokens: ['Grü', 'ße ', '🙂', ' 日本', '語'], tokenMs: 2 });
    const live = await ask('rec-live-1', 'x');
    const seen = callsOf(await collect(live.body!));
    expect(seen.calls).toEqual(['status:thinking', 'delta', 'delta', 'delta', 'delta', 'delta', 'done:stop']);
    expect(seen.text).toBe('Grüße 🙂 日本語');

    const bytes = new Uint8Array(await (await ask('rec-live', 'x')).arrayBuffer());
    const want = expected(bytes);
    expect(want.text).toBe('Grüße 🙂 日本語');
    await fc.assert(
      fc.asyncProperty(cutsFor(bytes), async (cuts) => {
        const replayed = callsOf(await collect(bodyOf(bytes, cuts)));
        expect(replayed.calls).toEqual(want.calls);
        expect(replayed.text).toBe(want.text);
      }),
      { numRuns: 100 },
    );
  });

  it('aborting through the signal ends the read without a terminal event, and the server stops upstream', async () => {
    j.fake!.plan = (prompt) => ({ tokens: Array.from({ length: 400 }, (_, i) => `${prompt}#${i} `), tokenMs: 10 });
    const controller = new AbortController();
    const response = await ask('abort-1', 'slow', controller.signal);
    let text = '';
    const types: string[] = [];
    for await (const event of readEvents(response.body!, controller.signal)) {
      types.push(event.type);
      if (event.type === 'token') text += event.text;
      if (text.includes('slow#2 ')) controller.abort();
    }
    expect(types.filter((t) => t === 'done' || t === 'cancelled' || t === 'error')).toEqual([]);
    const upstream = await j.fake!.waitForRequest((r) => r.prompt === 'slow');
    await upstream.closed;
    expect(upstream.aborted).toBe(true);
  });

  it('a prompt that cannot reach Jarvis, or that Jarvis refuses, is one error callback without a stream id', async () => {
    const failures: Array<{ failure: StreamFailure; streamId: string | null }> = [];
    const onError = (failure: StreamFailure, streamId: string | null) => failures.push({ failure, streamId });
    const unreachable: Api = { base: 'http://127.0.0.1:9', fetch: (...a) => fetch(...a) };
    const signal = new AbortController().signal;
    expect(await readAnswer({ api: unreachable, signal, start: { kind: 'request', open: (s) => unreachable.fetch('http://127.0.0.1:9/v1/chat/completions', { method: 'POST', signal: s }) } }, { onError })).toBe('error');
    expect(failures[0]).toMatchObject({ failure: { code: 'network_error', fromServer: false }, streamId: null });

    const api: Api = { base: j.url, fetch: (...a) => fetch(...a) };
    const open = (s: AbortSignal) => fetch(`${j.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"messages":"not a list"}', signal: s });
    expect(await readAnswer({ api, signal, start: { kind: 'request', open } }, { onError })).toBe('error');
    expect(failures[1]).toMatchObject({ failure: { fromServer: false }, streamId: null });
    expect(failures[1]!.failure.code).not.toBe('');
  });
});
