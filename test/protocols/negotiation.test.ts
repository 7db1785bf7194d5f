import { afterEach, describe, expect, it } from 'vitest';
import { chat, postJson } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';
import { ndjsonEvents, postChat, sseData } from '../helpers/openaiWire.js';

// Which format answers POST /v1/chat/completions (docs/api.md),
// and the session rules in each of them.

let j: TestJarvis;
afterEach(async () => {
  await j?.close();
});

const body = (prompt: string, extra: Record<string, unknown> = {}) => ({ model: 'fake-llama:latest', messages: [{ role: 'user', content: prompt }], ...extra });
const slow = (prompt: string) => ({ tokens: Array.from({ length: 400 }, (_, i) => `${prompt}#${i} `), tokenMs: 10 });

describe('format negotiation', () => {
  it('a JSON body without "stream" gets one chat.completion, as from the OpenAI API', async () => {
    j = await startTestJarvis();
    const res = await postChat(j.url, body('A'), { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('x-stream-id')).toMatch(/^[0-9a-f]{16}$/);
    const completion = (await res.json()) as { object: string; choices: Array<{ message: { content: string }; finish_reason: string }> };
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]).toMatchObject({ message: { content: expect.stringMatching(/^A#0 A#1 /) }, finish_reason: 'stop' });
  });

  it("the documented curl -d (a form content type, no stream) still streams Jarvis NDJSON", async () => {
    j = await startTestJarvis();
    const res = await postChat(j.url, JSON.stringify(body('B')), { 'content-type': 'application/x-www-form-urlencoded', 'x-session-id': 'curl-d' });
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const events = await ndjsonEvents(res);
    expect(events[0]).toMatchObject({ type: 'status', session_id: 'curl-d' });
    expect(events.at(-1)).toMatchObject({ type: 'done', reason: 'stop' });
    // No content type at all is not JSON either.
    const bare = await fetch(`${j.url}/v1/chat/completions`, { method: 'POST', body: new Blob([JSON.stringify(body('C'))]) });
    expect(bare.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect((await ndjsonEvents(bare)).at(-1)).toMatchObject({ type: 'done' });
  });

  it('Accept: application/x-ndjson wins over "stream" and the content type', async () => {
    j = await startTestJarvis();
    for (const stream of [undefined, true, false]) {
      const res = await postChat(j.url, body('D', stream === undefined ? {} : { stream }), { 'content-type': 'application/json', accept: 'application/x-ndjson' });
      expect(res.headers.get('content-type'), `stream: ${String(stream)}`).toMatch(/^application\/x-ndjson/);
      const events = await ndjsonEvents(res);
      expect(events.map((e) => e.type)).toEqual(['status', ...Array<string>(20).fill('token'), 'done']);
    }
  });

  it('"stream": true is SSE, "stream": false JSON, whatever else the request says; "stream": null is no stream', async () => {
    j = await startTestJarvis();
    const sse = await postChat(j.url, JSON.stringify(body('E', { stream: true })), { 'content-type': 'text/plain' });
    expect(sse.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect((await sseData(sse)).at(-1)).toBe('[DONE]');
    const json = await postChat(j.url, JSON.stringify(body('F', { stream: false })), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(((await json.json()) as { object: string }).object).toBe('chat.completion');
    const asNull = await postChat(j.url, body('G', { stream: null }), { 'content-type': 'application/json' });
    expect(((await asNull.json()) as { object: string }).object).toBe('chat.completion');
  });
});

describe('the session rules hold in every format', () => {
  it('JSON (no "stream"): a newer prompt supersedes it; it answers 200 with what it had, finish_reason "stop", cancel_reason "superseded"', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (p) => (p === 'A' ? slow(p) : { tokens: ['B1 ', 'B2'], tokenMs: 5 });
    const a = postChat(j.url, body('A'), { 'content-type': 'application/json', 'x-session-id': 'json-sup' });
    const upA = await j.fake!.waitForRequest((r) => r.prompt === 'A');
    await expect.poll(() => upA.tokensSent, { timeout: 10_000 }).toBeGreaterThan(2);
    const b = chat(j.url, { session: 'json-sup', prompt: 'B', model: 'fake-llama:latest' });
    const resA = await a;
    expect(resA.status).toBe(200);
    const completion = (await resA.json()) as { choices: Array<{ message: { content: string }; finish_reason: string; cancel_reason?: string }> };
    expect(completion.choices[0]).toMatchObject({ finish_reason: 'stop', cancel_reason: 'superseded' });
    expect(completion.choices[0]!.message.content).toMatch(/^A#0 A#1 /);
    await b.finished;
    expect(b.text).toBe('B1 B2');
    await upA.closed;
    expect(upA.aborted).toBe(true);
  });

  it('JSON (no "stream"): Stop ends it with finish_reason "stop", cancel_reason "stopped", and closes the upstream', async () => {
    j = await startTestJarvis();
    j.fake!.plan = slow;
    const a = postChat(j.url, body('A'), { 'content-type': 'application/json', 'x-session-id': 'json-stop' });
    const up = await j.fake!.waitForRequest();
    await expect.poll(() => up.tokensSent, { timeout: 10_000 }).toBeGreaterThan(2);
    expect((await postJson(`${j.url}/v1/sessions/json-stop/stop`, '')).body).toMatchObject({ stopped: true });
    const completion = (await (await a).json()) as { choices: Array<{ finish_reason: string; cancel_reason?: string }> };
    expect(completion.choices[0]).toMatchObject({ finish_reason: 'stop', cancel_reason: 'stopped' });
    await up.closed;
    expect(up.aborted).toBe(true);
  });

  it('SSE while the model is still thinking: superseded, its reasoning delivered, the upstream closed', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (p) => (p === 'A' ? { thinking: Array.from({ length: 400 }, (_, i) => `hmm${i} `), tokens: ['never'], tokenMs: 10 } : { tokens: ['B1 ', 'B2'], tokenMs: 5 });
    const a = await postChat(j.url, body('A', { stream: true }), { 'content-type': 'application/json', 'x-session-id': 'sse-sup' });
    const upA = await j.fake!.waitForRequest((r) => r.prompt === 'A');
    const reading = readSse(a, 3);
    // Wait until A has sent reasoning, then supersede it.
    await reading.reasoned;
    const b = await postChat(j.url, body('B', { stream: true }), { 'content-type': 'application/json', 'x-session-id': 'sse-sup' });
    const chunksA = (await reading.all) as Array<{ choices?: Array<{ delta: Record<string, unknown>; finish_reason: string | null; cancel_reason?: string }> }>;
    expect(chunksA.some((c) => typeof c.choices?.[0]?.delta.reasoning_content === 'string')).toBe(true);
    expect(chunksA.at(-2)?.choices?.[0]).toMatchObject({ finish_reason: 'stop', cancel_reason: 'superseded' });
    const chunksB = (await sseData(b)) as Array<{ choices?: Array<{ delta: { content?: string } }> }>;
    expect(chunksB.map((c) => c.choices?.[0]?.delta.content ?? '').join('')).toBe('B1 B2');
    await upA.closed;
    expect(upA.aborted).toBe(true);
  });

  it('SSE while thinking: Stop ends it with finish_reason "stop" and cancel_reason "stopped"', async () => {
    j = await startTestJarvis();
    j.fake!.plan = () => ({ thinking: Array.from({ length: 400 }, (_, i) => `hmm${i} `), tokens: ['never'], tokenMs: 10 });
    const a = await postChat(j.url, body('A', { stream: true }), { 'content-type': 'application/json', 'x-session-id': 'sse-stop' });
    const reading = readSse(a, 3);
    await reading.reasoned;
    expect((await postJson(`${j.url}/v1/sessions/sse-stop/stop`, '')).body).toMatchObject({ stopped: true });
    const chunks = (await reading.all) as Array<{ choices?: Array<{ finish_reason: string | null; cancel_reason?: string }> }>;
    expect(chunks.at(-2)?.choices?.[0]).toMatchObject({ finish_reason: 'stop', cancel_reason: 'stopped' });
    const end = await waitForLog(j.logFile, 'stream_end', { session: 'sse-stop' });
    expect(end.fields.reason).toBe('stopped');
  });

  it('NDJSON (curl -d): reasoning events stream, then a newer prompt supersedes it', async () => {
    j = await startTestJarvis();
    j.fake!.plan = (p) => (p === 'A' ? { thinking: Array.from({ length: 400 }, (_, i) => `hmm${i} `), tokens: ['never'], tokenMs: 10 } : { tokens: ['B1 ', 'B2'], tokenMs: 5 });
    const a = chat(j.url, { session: 'nd-sup', prompt: 'A', model: 'fake-llama:latest' });
    const firstReasoning = await a.waitFor((e) => e.type === 'reasoning');
    expect(firstReasoning).toMatchObject({ type: 'reasoning', text: 'hmm0 ', seq: 0, session_id: 'nd-sup' });
    const b = await postChat(j.url, JSON.stringify(body('B')), { 'content-type': 'application/x-www-form-urlencoded', 'x-session-id': 'nd-sup' });
    await a.finished;
    expect(a.terminal).toMatchObject({ type: 'cancelled', reason: 'superseded' });
    const seqs = a.events.filter((e) => e.type === 'reasoning').map((e) => (e as { seq: number }).seq);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect((await ndjsonEvents(b)).at(-1)).toMatchObject({ type: 'done' });
  });

  it('NDJSON while thinking: Stop ends it with cancelled/stopped', async () => {
    j = await startTestJarvis();
    j.fake!.plan = () => ({ thinking: Array.from({ length: 400 }, (_, i) => `hmm${i} `), tokens: ['never'], tokenMs: 10 });
    const a = chat(j.url, { session: 'nd-stop', prompt: 'A', model: 'fake-llama:latest' });
    await a.waitFor((e) => e.type === 'reasoning');
    await postJson(`${j.url}/v1/sessions/nd-stop/stop`, '');
    await a.finished;
    expect(a.terminal).toMatchObject({ type: 'cancelled', reason: 'stopped' });
    const up = await j.fake!.waitForRequest();
    await up.closed;
    expect(up.aborted).toBe(true);
  });
});

/** Reads an SSE answer as it comes: `reasoned` settles once `n` reasoning chunks have arrived, `all` with every payload (as sseData). */
function readSse(res: Response, n: number): { reasoned: Promise<void>; all: Promise<unknown[]> } {
  let seen!: () => void;
  const reasoned = new Promise<void>((resolve) => (seen = resolve));
  const all = (async () => {
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of res.body!) {
      text += decoder.decode(chunk as Uint8Array, { stream: true });
      if ((text.match(/"reasoning_content"/g) ?? []).length >= n) seen();
    }
    return text
      .split('\n\n')
      .filter((block) => block.startsWith('data: '))
      .map((block) => (block.slice(6) === '[DONE]' ? '[DONE]' : (JSON.parse(block.slice(6)) as unknown)));
  })();
  return { reasoned, all };
}
