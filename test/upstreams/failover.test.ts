import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { chat } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';

// Failover (docs/upstreams.md "Health and failover"): a server that fails before the first
// token hands the request to the next; after the first token never: the answer ends with an
// error naming its server, and no token of another server is ever in it.

let a: FakeOllama;
let b: FakeOllama;
let j: TestJarvis;

beforeAll(async () => {
  a = await new FakeOllama().start();
  b = await new FakeOllama().start();
  a.models = b.models = ['shared:latest'];
  j = await startTestJarvis({ JARVIS_UPSTREAMS: `a=ollama:${a.url},b=ollama:${b.url}` }, { fake: false });
});
afterAll(async () => {
  await j?.close();
  await b?.stop();
});

describe('failover', () => {
  it('mid-answer: the answer ends with an error naming its server; before the first token: the next server answers', async () => {
    a.plan = (prompt) => ({ tokens: Array.from({ length: 1000 }, (_, i) => `A${prompt}${i} `), tokenMs: 5 });
    b.plan = (prompt) => ({ tokens: [`B${prompt} `, 'end'], tokenMs: 1 });
    // a is first in the list and idle: it takes the first stream.
    const running = chat(j.url, { session: 'f-1', model: 'shared', prompt: 'p' });
    await running.waitFor((e) => e.type === 'token' && (e as { seq: number }).seq >= 3);
    await a.stop();
    await running.finished;
    expect(running.terminal).toMatchObject({ type: 'error', code: 'upstream_error' });
    expect(running.text.startsWith('Ap0 ')).toBe(true);
    expect(running.text).not.toContain('B');
    const trace = await running.streamId;
    expect((await waitForLog(j.logFile, 'stream_end', { trace })).fields.upstream).toBe('a');

    // The same session's next prompt had affinity to a; a is down: b answers, with no error shown.
    const next = chat(j.url, { session: 'f-1', model: 'shared', prompt: 'q' });
    await next.finished;
    expect(next.terminal).toMatchObject({ type: 'done' });
    expect(next.text).toBe('Bq end');
    expect((await waitForLog(j.logFile, 'upstream_down', { upstream: 'a' })).fields.error).toMatch(/cannot reach Ollama|stopped answering/);
  });
});
