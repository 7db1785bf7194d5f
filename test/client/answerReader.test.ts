import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import type { Api } from '../../src/client/api.js';
import { readAnswer } from '../../src/client/answerReader.js';
import { createConversation, getConversation, startAnswerRequest } from '../../src/client/conversationsApi.js';
import { advanceCursor, alreadySeen, formatCursor, parseCursor, reconnectDelay } from '../../src/client/resume.js';

// The reconnect/resume logic of the UI against a real Jarvis (fake Ollama behind it):
// a fetch that cuts the answer's connection mid-stream and refuses the next attempts,
// as a network drop does. The reader must come back by itself at its last seq.

describe('resume pieces', () => {
  it('waits 250 ms doubling to 5 s, each drawn between half and all of it', () => {
    const at = (attempt: number, r: number) => reconnectDelay(attempt, { firstMs: 250, maxMs: 5_000, random: () => r });
    expect([0, 1, 2, 3, 4, 5, 9].map((a) => at(a, 0.999_999))).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
    expect([0, 1, 5].map((a) => at(a, 0))).toEqual([125, 250, 2500]);
    for (let i = 0; i < 200; i++) {
      const d = reconnectDelay(i % 12);
      expect(d).toBeGreaterThanOrEqual(125);
      expect(d).toBeLessThanOrEqual(5000);
    }
  });

  it('cursors: tokens move seq, reasoning counts extra events, what a reader has is never taken again', () => {
    const ids = { stream_id: 's', session_id: 'c' };
    let c = parseCursor(null);
    expect(c).toBeNull();
    c = advanceCursor(c, { type: 'status', status: 'thinking', trace_id: 's', model: 'm', ...ids });
    expect(formatCursor(c)).toBe('-1');
    c = advanceCursor(c, { type: 'reasoning', text: 'hm', seq: 0, ...ids });
    expect(formatCursor(c)).toBe('-1:1');
    c = advanceCursor(c, { type: 'token', text: 'a', seq: 0, ...ids });
    c = advanceCursor(c, { type: 'token', text: 'b', seq: 1, ...ids });
    expect(formatCursor(c)).toBe('1');
    expect(alreadySeen(c, { type: 'token', text: 'b', seq: 1, ...ids })).toBe(true);
    expect(alreadySeen(c, { type: 'token', text: 'c', seq: 2, ...ids })).toBe(false);
    expect(parseCursor('41:2')).toEqual({ seq: 41, extra: 2 });
    expect(parseCursor('nonsense')).toBeNull();
  });
});

describe('readAnswer against a real Jarvis', () => {
  let j: TestJarvis;
  beforeAll(async () => {
    j = await startTestJarvis();
    j.fake!.plan = (p) => ({ tokens: Array.from({ length: 80 }, (_, i) => `${p}#${i} `), tokenMs: 10 });
  });
  afterAll(async () => {
    await j.close();
  });

  it('a drop mid-answer: "reconnecting", then the rest from the last seq; the text is exactly the stored answer', async () => {
    const urls: string[] = [];
    let refuse = 0;
    let cutAfterBytes = 0;
    const api: Api = {
      base: j.url,
      fetch: async (input, init) => {
        urls.push(String(input));
        if (refuse > 0) {
          refuse--;
          throw new TypeError('Failed to fetch');
        }
        const response = await fetch(input, init);
        if (!cutAfterBytes || !response.body) return response;
        // This connection breaks after some bytes (possibly mid-line), and the next two attempts fail.
        const limit = cutAfterBytes;
        cutAfterBytes = 0;
        let seen = 0;
        const reader = response.body.getReader();
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            const { done, value } = await reader.read();
            if (done) return controller.close();
            if (seen + value.length > limit) {
              controller.enqueue(value.slice(0, limit - seen));
              await reader.cancel();
              refuse = 2;
              return controller.error(new TypeError('network error'));
            }
            seen += value.length;
            controller.enqueue(value);
          },
        });
        return new Response(body, { status: response.status, headers: response.headers });
      },
    };
    const conv = await createConversation(api);
    cutAfterBytes = 1500; // the answer's own connection is the one that breaks
    let text = '';
    const reconnecting: number[] = [];
    let reconnected = 0;
    const outcome = await readAnswer(
      {
        api,
        signal: new AbortController().signal,
        start: { kind: 'request', open: (signal) => startAnswerRequest(api, conv.id, { kind: 'send', content: 'R' }, undefined, signal) },
        backoff: { firstMs: 20, maxMs: 100, random: () => 0.5 },
      },
      {
        onDelta: (t) => (text += t),
        onReconnecting: (attempt) => reconnecting.push(attempt),
        onReconnected: () => reconnected++,
      },
    );
    expect(outcome).toBe('done');
    expect(reconnecting).toEqual([1, 2, 3]);
    expect(reconnected).toBe(1);
    expect(text).toBe(Array.from({ length: 80 }, (_, i) => `R#${i} `).join(''));
    const reattach = urls.filter((u) => u.includes('/events?after='));
    expect(reattach.length).toBe(3);
    expect(Number(new URL(reattach[0]!).searchParams.get('after'))).toBeGreaterThanOrEqual(0);
    const stored = await getConversation(api, conv.id);
    expect(stored.messages.at(-1)).toMatchObject({ state: 'done', content: text });
  });

  it('a stream the server no longer has is "lost": the caller reads the stored answer instead', async () => {
    const api: Api = { base: j.url, fetch: (input, init) => fetch(input, init) };
    const outcome = await readAnswer({ api, signal: new AbortController().signal, start: { kind: 'follow', streamId: 'no-such-stream', after: null } }, {});
    expect(outcome).toBe('lost');
  });
});

describe('readAnswer at a bound of its key', () => {
  it('a reattach refused with 429 (too many readers at once) is waited out like a drop, then read to its end', async () => {
    const j = await startTestJarvis({ JARVIS_MAX_READERS_PER_CLIENT: '1' });
    try {
      j.fake!.plan = (p) => ({ tokens: Array.from({ length: 300 }, (_, i) => `${p}#${i} `), tokenMs: 10 });
      const api: Api = { base: j.url, fetch: (input, init) => fetch(input, init) };
      const conv = await createConversation(api);
      const started = await startAnswerRequest(api, conv.id, { kind: 'send', content: 'B' }, undefined, new AbortController().signal);
      const streamId = started.headers.get('x-stream-id')!;
      void started.body?.cancel();
      // Another tab's reader holds the only place.
      const holder = new AbortController();
      const held = await fetch(`${j.url}/v1/streams/${streamId}/events`, { signal: holder.signal });
      expect(held.status).toBe(200);
      let text = '';
      const reconnecting: number[] = [];
      const outcome = await readAnswer(
        { api, signal: new AbortController().signal, start: { kind: 'follow', streamId, after: null }, backoff: { firstMs: 20, maxMs: 100, random: () => 0.5 } },
        {
          onDelta: (t) => (text += t),
          onReconnecting: (attempt) => {
            reconnecting.push(attempt);
            holder.abort();
          },
        },
      );
      expect(outcome).toBe('done');
      expect(reconnecting.length).toBeGreaterThanOrEqual(1);
      expect(text).toBe(Array.from({ length: 300 }, (_, i) => `B#${i} `).join(''));
    } finally {
      await j.close();
    }
  });
});
