import { afterEach, describe, expect, it } from 'vitest';
import { chat, postJson } from '../helpers/chatClient.js';
import type { JarvisProcess } from '../helpers/jarvisProcess.js';
import type { TestJarvis } from '../helpers/jarvisServer.js';
import { startEndBalance, waitForLog } from '../helpers/log.js';
import { cancelVerdicts, ENGINE_HOW, SEED, spawnEmbeddedJarvis, startEmbeddedJarvis } from '../helpers/services/embeddedJarvis.js';

// The cancels a client does not ask for, on the real engine: a shutdown of the real process
// mid-answer and a bound on the reply cut the engine short, and each is confirmed at the engine
// in the log (docs/operations.md "Stop at the engine").

let proc: JarvisProcess | undefined;
let j: TestJarvis | undefined;
afterEach(async () => {
  if (proc && proc.proc.exitCode === null) proc.proc.kill('SIGKILL');
  await j?.close();
  proc = j = undefined;
});

const long = (session: string) => ({ session, body: { messages: [{ role: 'user', content: 'Tell me about the sea.' }], max_tokens: 4000, seed: SEED } });

describe('cancels Jarvis makes itself, on the embedded engine', () => {
  it('SIGTERM mid-answer: both answers end cancelled/shutdown, each confirmed at the engine, exit 0', async () => {
    proc = await spawnEmbeddedJarvis();
    const calls = ['sd-1', 'sd-2'].map((s) => chat(proc!.url, long(s)));
    await Promise.all(calls.map((c) => c.waitFor((e) => e.type === 'token' && e.seq >= 5, 30_000)));
    proc.proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    await Promise.all(calls.map((c) => c.finished));
    for (const c of calls) expect(c.terminal).toMatchObject({ type: 'cancelled', reason: 'shutdown' });
    await waitForLog(proc.logFile, 'shutdown_complete', { clean: 'true' });
    expect(startEndBalance(proc.logFile)).toEqual({ starts: 2, ends: 2, unmatched: [] });
    const verdicts = cancelVerdicts(proc.logFile);
    expect(verdicts.map((v) => [v.reason, v.cancel, v.how])).toEqual([
      ['shutdown', 'confirmed', ENGINE_HOW],
      ['shutdown', 'confirmed', ENGINE_HOW],
    ]);
  }, 60_000);

  it('JARVIS_MAX_REPLY_BYTES: a stream:false answer stops at the bound (finish length), and the engine is confirmed stopped', async () => {
    // A bound in bytes, not time: the same cut on a fast machine and a busy one.
    j = await startEmbeddedJarvis({ JARVIS_MAX_REPLY_BYTES: '2000' });
    const res = await postJson(`${j.url}/v1/chat/completions`, { ...long('limit').body, stream: false }, { 'x-session-id': 'limit' });
    expect(res.status).toBe(200);
    expect(res.body.choices[0].finish_reason).toBe('length');
    expect((res.body.choices[0].message.content as string).length).toBeLessThan(2200);
    await waitForLog(j.logFile, 'stream_truncated', { limit: 'reply_bytes' });
    const end = await waitForLog(j.logFile, 'stream_end', { session: 'limit' });
    expect(Number(end.fields.tokens)).toBeLessThan(4000);
    expect(end.fields).toMatchObject({ cancel: 'confirmed', cancel_how: ENGINE_HOW });
  }, 60_000);
});
