import { afterEach, describe, expect, it } from 'vitest';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { chat } from '../helpers/chatClient.js';
import { spawnJarvis, type JarvisProcess } from '../helpers/jarvisProcess.js';
import { events, startEndBalance, waitForLog } from '../helpers/log.js';

// Graceful shutdown of the real process: running streams get cancelled/shutdown,
// every stream_end is logged, and the process exits within 3 s.

let fake: FakeOllama | undefined;
let jarvis: JarvisProcess | undefined;
afterEach(async () => {
  if (jarvis && jarvis.proc.exitCode === null) jarvis.proc.kill('SIGKILL');
  await fake?.stop();
  fake = jarvis = undefined;
});

describe('graceful shutdown', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} while streaming: readers get cancelled/shutdown, every stream ends, exit 0 within 3 s`, async () => {
      fake = await new FakeOllama().start();
      fake.plan = (p) => ({ tokens: Array.from({ length: 1000 }, (_, i) => `${p}${i} `), tokenMs: 10 });
      jarvis = await spawnJarvis({ JARVIS_BACKEND: 'ollama', OLLAMA_HOST: fake.url });
      const calls = ['s1', 's2', 's3'].map((session) => chat(jarvis!.url, { session, prompt: session }));
      await Promise.all(calls.map((c) => c.firstToken()));

      const sentAt = performance.now();
      jarvis.proc.kill(signal);
      const code = await jarvis.exited;
      const tookMs = performance.now() - sentAt;
      await Promise.all(calls.map((c) => c.finished));

      expect(code).toBe(0);
      expect(tookMs).toBeLessThan(3000);
      for (const c of calls) expect(c.terminal).toMatchObject({ type: 'cancelled', reason: 'shutdown' });
      for (const r of fake.requests) {
        await r.closed;
        expect(r.aborted).toBe(true);
      }
      const balance = startEndBalance(jarvis.logFile);
      expect(balance).toEqual({ starts: 3, ends: 3, unmatched: [] });
      expect(events(jarvis.logFile, 'stream_end').every((l) => l.fields.reason === 'shutdown')).toBe(true);
      await waitForLog(jarvis.logFile, 'shutdown_complete', { clean: 'true' });
    });
  }

  it('SIGTERM with an upstream that ignores the abort: still exits within 3 s with every stream_end', async () => {
    fake = await new FakeOllama().start();
    fake.plan = (p) => ({ tokens: Array.from({ length: 1000 }, (_, i) => `${p}${i} `), tokenMs: 10, ignoreAbort: true });
    jarvis = await spawnJarvis({ JARVIS_BACKEND: 'ollama', OLLAMA_HOST: fake.url, JARVIS_CANCEL_TIMEOUT_MS: '10000' });
    const call = chat(jarvis.url, { session: 'stubborn', prompt: 'x' });
    await call.firstToken();
    const sentAt = performance.now();
    jarvis.proc.kill('SIGTERM');
    expect(await jarvis.exited).toBe(0);
    expect(performance.now() - sentAt).toBeLessThan(3000);
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'cancelled', reason: 'shutdown' });
    expect(startEndBalance(jarvis.logFile)).toEqual({ starts: 1, ends: 1, unmatched: [] });
    await waitForLog(jarvis.logFile, 'upstream_killed', { why: 'shutdown' });
  });
});
