import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { spawnJarvis, type JarvisProcess } from '../helpers/jarvisProcess.js';
import { events, waitForLog } from '../helpers/log.js';
import { api, newConversation, sendMessage, settledConversation } from '../helpers/streamReader.js';

// Restarts (docs/conversations.md), with Jarvis in its own process as users run it: a graceful
// stop stores streaming answers as `shutdown`; after `kill -9` an answer loses at most
// its last flush interval and shows as `interrupted`, never as still streaming.

let fake: FakeOllama;
const procs: JarvisProcess[] = [];
beforeAll(async () => {
  fake = await new FakeOllama().start();
  fake.plan = (p) => ({ tokens: Array.from({ length: 2000 }, (_, i) => `${p}#${i} `), tokenMs: 5 });
});
afterEach(() => {
  for (const p of procs.splice(0)) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
});
afterAll(async () => {
  await fake.stop();
});

async function start(dataDir: string): Promise<JarvisProcess> {
  const p = await spawnJarvis({ JARVIS_BACKEND: 'ollama', OLLAMA_HOST: fake.url, JARVIS_DATA_DIR: dataDir });
  procs.push(p);
  return p;
}

describe('restarts', () => {
  it('keeps every conversation across a restart, and stores a streaming answer as shutdown on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'jarvis-restart-'));
    let jarvis = await start(dataDir);
    const done = await newConversation(jarvis.url, { title: 'kept', system: 'sys' });
    fake.plan = (p) => (p === 'short' ? { tokens: ['a ', 'b'], tokenMs: 1 } : { tokens: Array.from({ length: 2000 }, (_, i) => `${p}#${i} `), tokenMs: 5 });
    await sendMessage(jarvis.url, done, { content: 'short' }).finished;
    const live = await newConversation(jarvis.url);
    const answer = sendMessage(jarvis.url, live, { content: 'long' });
    await answer.tokensReached(20);

    jarvis.proc.kill('SIGTERM');
    expect(await jarvis.exited).toBe(0);
    await answer.finished;
    expect(answer.terminal).toMatchObject({ type: 'cancelled', reason: 'shutdown' });

    jarvis = await start(dataDir);
    const list = await api(jarvis.url, 'GET', '/v1/conversations');
    expect(list.body.data.map((c: any) => c.id).sort()).toEqual([done, live].sort());
    const kept = await settledConversation(jarvis.url, done);
    expect(kept).toMatchObject({ title: 'kept', system: 'sys' });
    expect(kept.messages.map((m: any) => m.content)).toEqual(['short', 'a b']);
    const stopped = await settledConversation(jarvis.url, live);
    expect(stopped.messages[1]).toMatchObject({ state: 'shutdown', content: answer.text, seq: answer.lastSeq });
    // Nothing was left streaming, so nothing was marked interrupted.
    await waitForLog(jarvis.logFile, 'store_selected', { interrupted_answers: '0' });

    // The conversation goes on, its shut-down answer in the history.
    fake.plan = () => ({ tokens: ['again'], tokenMs: 1 });
    const next = sendMessage(jarvis.url, live, { content: 'continue' });
    await next.finished;
    expect(next.terminal?.type).toBe('done');
    expect(fake.requests.at(-1)!.body).toMatchObject({ messages: [{ content: 'long' }, { content: answer.text }, { content: 'continue' }] });
    jarvis.proc.kill('SIGTERM');
    expect(await jarvis.exited).toBe(0);
  });

  it('after kill -9 mid-answer, the answer is interrupted with all but at most its last flush interval', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'jarvis-kill-'));
    let jarvis = await start(dataDir);
    fake.plan = (p) => ({ tokens: Array.from({ length: 4000 }, (_, i) => `${p}#${i} `), tokenMs: 5 });
    const id = await newConversation(jarvis.url);
    const answer = sendMessage(jarvis.url, id, { content: 'doomed' });
    await answer.tokensReached(40);
    // The answer is being stored as it grows: wait for a flush that has a good part of it.
    let storedBefore = -1;
    await expect
      .poll(async () => (storedBefore = (await api(jarvis.url, 'GET', `/v1/conversations/${id}`)).body.messages[1].seq), { timeout: 10_000, interval: 25 })
      .toBeGreaterThanOrEqual(20);
    await answer.tokensReached(storedBefore + 60);

    jarvis.proc.kill('SIGKILL');
    expect(await jarvis.exited).toBe('SIGKILL');
    // The connection dies with the process.
    await expect(answer.finished).rejects.toThrow(/terminated/);
    const streamed = answer.text;

    jarvis = await start(dataDir);
    const conv = await api(jarvis.url, 'GET', `/v1/conversations/${id}`);
    const message = conv.body.messages[1];
    expect(message.state).toBe('interrupted');
    expect(conv.body.streaming).toBeNull();
    expect(message.seq).toBeGreaterThan(storedBefore);
    expect(streamed.startsWith(message.content)).toBe(true);
    expect(message.content).toBe(Array.from({ length: message.seq + 1 }, (_, i) => `doomed#${i} `).join(''));
    const lost = answer.lastSeq - message.seq;
    console.log(`kill -9: ${answer.lastSeq + 1} tokens streamed, ${message.seq + 1} stored, ${lost} lost (one flush interval is 250 ms ≈ 50 tokens at 5 ms/token)`);
    const line = await waitForLog(jarvis.logFile, 'store_selected');
    expect(line.fields.interrupted_answers).toBe('1');
    expect(events(jarvis.logFile, 'answers_interrupted')).toHaveLength(1);
    jarvis.proc.kill('SIGTERM');
    expect(await jarvis.exited).toBe(0);
  });

  it('refuses to start, with a clear message, when the data directory cannot be used', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'jarvis-bad-')), 'not-a-dir');
    await import('node:fs').then((fs) => fs.writeFileSync(file, 'x'));
    await expect(spawnJarvis({ JARVIS_BACKEND: 'demo', JARVIS_DATA_DIR: file })).rejects.toThrow(/failed to start: .*(EEXIST|ENOTDIR|not a directory|file already exists)/i);
  });
});
