import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { spawnJarvis, type JarvisProcess } from '../helpers/jarvisProcess.js';

// docs/security.md "Searches and the store": one key's searches must not stall
// another key's stream. SQLite reads synchronously; a search that reads a lot ran
// on the event loop and held every stream with it. Here key `searcher` has two
// answers of 1 MB of "a" (still streaming: text search scans those, no index can
// skip them), and searches them with 499 "a" and a "b", which SQLite's LIKE
// compares at every position: a few hundred ms of reading per search. Meanwhile key
// `streamer` streams an answer, a token every 10 ms. Jarvis runs in its own process;
// its SQLite connection lives on its own thread (src/store/sqliteWorker/), where
// searches and writes take turns. (Waiting bounded by JARVIS_SEARCH_TIMEOUT_MS:
// test/store/store.thread.test.ts.)

const SEARCH_KEY = 'k-search-0123456789abcdef';
const STREAM_KEY = 'k-stream-0123456789abcdef';
const MODEL = 'fake-llama:latest';
const MB_OF_A = Array.from({ length: 1100 }, () => 'a'.repeat(1000));
const SLOW_QUERY = `${'a'.repeat(499)}b`;

const headers = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/x-ndjson' });

async function call(url: string, key: string, method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${url}${path}`, { method, headers: headers(key), body: body === undefined ? undefined : JSON.stringify(body), signal });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text, headers: res.headers };
}

/** Starts a prompt in a new conversation; its answer's body is read (and its token lines timed) in the background. */
async function prompt(url: string, key: string, content: string, signal: AbortSignal): Promise<{ id: string; tokenTimes: number[] }> {
  const { body } = await call(url, key, 'POST', '/v1/conversations', {});
  const res = await fetch(`${url}/v1/conversations/${body.id}/messages`, { method: 'POST', headers: headers(key), body: JSON.stringify({ content, model: MODEL }), signal });
  const tokenTimes: number[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let rest = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const now = performance.now();
      rest += decoder.decode(chunk, { stream: true });
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.includes('"type":"token"')) tokenTimes.push(now);
    }
  })().catch(() => {});
  return { id: body.id as string, tokenTimes };
}

let fake: FakeOllama;
let jarvis: JarvisProcess;
const stop = new AbortController();
/** The searcher's two answers of 1 MB of "a", still streaming. */
let big: Array<{ id: string }>;

beforeAll(async () => {
  fake = await new FakeOllama().start();
  fake.plan = (p) =>
    p.startsWith('big')
      ? // 1 MB of "a" as fast as it is read, then silence: the answer stays `streaming`.
        { tokens: MB_OF_A, tokenMs: 0, burst: true, fault: 'stall', faultAfter: 1000 }
      : { tokens: Array.from({ length: 100_000 }, (_, i) => `t${i} `), tokenMs: 10 };
  jarvis = await spawnJarvis({
    JARVIS_BACKEND: 'ollama',
    OLLAMA_HOST: fake.url,
    JARVIS_API_KEYS: `searcher:${SEARCH_KEY},streamer:${STREAM_KEY}`,
    JARVIS_SEARCH_TIMEOUT_MS: '1500',
    JARVIS_MAX_SEARCHES_PER_CLIENT: '4',
  });
  big = await Promise.all([prompt(jarvis.url, SEARCH_KEY, 'big one', stop.signal), prompt(jarvis.url, SEARCH_KEY, 'big two', stop.signal)]);
  // Until both are stored whole (the recorder writes every 250 ms).
  const deadline = Date.now() + 60_000;
  for (const { id } of big) {
    while (((await call(jarvis.url, SEARCH_KEY, 'GET', `/v1/conversations/${id}`)).body.messages?.[1]?.content?.length ?? 0) < 1_000_000) {
      if (Date.now() > deadline) throw new Error(`the 1 MB answer of ${id} was not stored within 60 s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}, 90_000);

afterAll(async () => {
  stop.abort();
  if (jarvis && jarvis.proc.exitCode === null) jarvis.proc.kill('SIGKILL');
  await fake?.stop();
});

describe('searches and the store', () => {
  it("one key's search storm stalls neither another key's stream nor /health; searches are bounded per key", async () => {
    const stream = await prompt(jarvis.url, STREAM_KEY, 'steady', stop.signal);
    await expect.poll(() => stream.tokenTimes.length, { timeout: 10_000 }).toBeGreaterThan(20);

    const healthTimes: number[] = [];
    let storming = true;
    const prober = (async () => {
      while (storming) {
        const t = performance.now();
        await (await fetch(`${jarvis.url}/health`)).arrayBuffer();
        healthTimes.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const from = performance.now();
    const searches = await Promise.all(Array.from({ length: 12 }, () => call(jarvis.url, SEARCH_KEY, 'GET', `/v1/conversations?q=${SLOW_QUERY}`)));
    const to = performance.now();
    storming = false;
    await prober;

    // More than JARVIS_MAX_SEARCHES_PER_CLIENT at once: the rest are refused at once, with when to retry.
    const refused = searches.filter((s) => s.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(12 - 4);
    expect(refused[0]!.body.error).toMatchObject({ code: 'too_many_searches', message: expect.stringContaining('JARVIS_MAX_SEARCHES_PER_CLIENT') });
    expect(refused[0]!.headers.get('retry-after')).toBe('1');
    // The admitted ones read one at a time; one that could not start within JARVIS_SEARCH_TIMEOUT_MS
    // (1.5 s) would be a 503 saying so.
    const timedOut = searches.filter((s) => s.status === 503);
    expect(searches.filter((s) => s.status === 200).length + timedOut.length + refused.length).toBe(12);
    for (const s of timedOut) expect(s.body.error).toMatchObject({ code: 'store_unavailable', message: expect.stringContaining('JARVIS_SEARCH_TIMEOUT_MS') });

    // Meanwhile the other key's tokens kept coming and /health kept answering. Each search
    // held the event loop for a second or more when SQLite ran on it; the bound leaves a
    // loaded 2-core machine room.
    const times = stream.tokenTimes.filter((t) => t >= from && t <= to);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    console.log(`storm ${Math.round(to - from)} ms: ${times.length} tokens, largest gap ${Math.round(Math.max(...gaps))} ms; /health max ${Math.round(Math.max(...healthTimes))} ms`);
    expect(times.length).toBeGreaterThan(5);
    expect(Math.max(...gaps)).toBeLessThan(1000);
    expect(Math.max(...healthTimes)).toBeLessThan(1000);

    // Searches answer after the storm, each key's its own.
    await expect.poll(async () => (await call(jarvis.url, SEARCH_KEY, 'GET', '/v1/conversations?q=big%20two')).body.data?.map((c: { id: string }) => c.id), { timeout: 10_000, interval: 200 }).toEqual([big[1]!.id]);
    const other = await call(jarvis.url, STREAM_KEY, 'GET', '/v1/conversations?q=steady');
    expect(other.body.data.map((c: { id: string }) => c.id)).toEqual([stream.id]);
  }, 90_000);

  it('a search its client gave up on while it waited gives its place up (the web UI drops the last query at each key)', async () => {
    // Five at once: the first reads (a few hundred ms), three wait for their turn, the fifth is refused.
    const clients = Array.from({ length: 5 }, () => new AbortController());
    const sent = clients.map((c) => call(jarvis.url, SEARCH_KEY, 'GET', `/v1/conversations?q=${SLOW_QUERY}`, undefined, c.signal).catch(() => undefined));
    const refused = await Promise.race(sent.map(async (p) => ((await p)?.status === 429 ? 'refused' : await new Promise<never>(() => {}))));
    expect(refused).toBe('refused');
    for (const c of clients) c.abort();
    // Those that waited are gone at once; the one reading still holds its place. (Before, all four held
    // theirs until they had run or timed out: 429 for about 1.5 s.)
    await expect.poll(async () => (await call(jarvis.url, SEARCH_KEY, 'GET', '/v1/conversations?q=big')).status, { timeout: 1000, interval: 50 }).not.toBe(429);
  }, 30_000);
});
