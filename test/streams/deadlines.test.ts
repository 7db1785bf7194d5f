import { afterEach, describe, expect, it } from 'vitest';
import { chat } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { events, waitForLog } from '../helpers/log.js';

// Every stream's deadlines (first token, stall, maximum duration) share one timer
// (src/streams/deadlines.ts). Many streams whose deadlines fall at different times,
// some moved by their progress, some never reached: each that is reached ends its
// stream then (never before its limit), and a stream that ends first leaves no
// deadline behind that could end anything else.

let j: TestJarvis;
afterEach(async () => {
  await j?.close();
});

const STALL_MS = 1000;
const MAX_MS = 4000;
const FIRST_MS = 3000;

describe('stream deadlines on one timer', () => {
  it('each of many staggered deadlines ends its own stream at its time, and only it', async () => {
    j = await startTestJarvis({ JARVIS_STALL_TIMEOUT_MS: String(STALL_MS), JARVIS_MAX_STREAM_MS: String(MAX_MS), JARVIS_FIRST_TOKEN_TIMEOUT_MS: String(FIRST_MS) });
    const tokens = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}#${i} `);
    j.fake!.plan = (p) => {
      const [kind, n] = p.split(':') as [string, string];
      const k = Number(n);
      // Silent after k tokens, 20 ms apart: the stall deadlines fall 60 ms apart, each moved by every token first.
      if (kind === 'stall') return { tokens: tokens(p, 1000), tokenMs: 20, fault: 'stall', faultAfter: k };
      // Never a first token, after a wait of its own.
      if (kind === 'first') return { tokens: tokens(p, 3), tokenMs: 20, fault: 'hang_after_headers' };
      // A token every 50 ms, forever: only the maximum duration ends it.
      if (kind === 'long') return { tokens: tokens(p, 1000), tokenMs: 50 };
      return { tokens: tokens(p, 5), tokenMs: 20 };
    };
    const prompts = [...Array.from({ length: 10 }, (_, i) => `stall:${3 * (i + 1)}`), 'first:0', 'first:1', 'long:0', 'long:1', 'done:0', 'done:1', 'done:2'];
    const calls = prompts.map((prompt) => ({ prompt, call: chat(j.url, { session: `dl-${prompt}`, prompt }) }));
    await Promise.all(calls.map(({ call }) => call.finished));

    for (const { prompt, call } of calls) {
      if (prompt.startsWith('done')) expect(call.terminal, prompt).toMatchObject({ type: 'done' });
      else expect(call.terminal, prompt).toMatchObject({ type: 'error', code: 'timeout' });
    }
    for (const { prompt } of calls.filter((c) => !c.prompt.startsWith('done'))) await waitForLog(j.logFile, 'upstream_error', { session: `dl-${prompt}`, code: 'timeout' });
    const timeouts = events(j.logFile, 'upstream_error', { code: 'timeout' });
    expect(timeouts).toHaveLength(prompts.length - 3);
    for (const line of timeouts) {
      const prompt = String(line.fields.session).slice(3);
      const limit = prompt.startsWith('stall') ? 'stall' : prompt.startsWith('first') ? 'first_token' : 'max_stream_ms';
      expect(line.fields.limit, `${prompt} ${JSON.stringify(line.fields)}`).toBe(limit);
      const waited = Number(line.fields.waited_ms);
      // Never before its limit; late only by the machine's load (a generous bound). The limits leave
      // the fake's pace a wide margin, so a loaded machine's pauses do not end a stream early.
      if (limit === 'stall') expect(waited, prompt).toBeGreaterThanOrEqual(STALL_MS);
      if (limit === 'first_token') expect(waited, prompt).toBeGreaterThanOrEqual(FIRST_MS);
      if (limit !== 'max_stream_ms') expect(waited, prompt).toBeLessThan((limit === 'stall' ? STALL_MS : FIRST_MS) + 3000);
    }
    for (const prompt of ['long:0', 'long:1']) {
      const end = await waitForLog(j.logFile, 'stream_end', { session: `dl-${prompt}` });
      expect(Number(end.fields.duration_ms), prompt).toBeGreaterThanOrEqual(MAX_MS);
      expect(Number(end.fields.duration_ms), prompt).toBeLessThan(MAX_MS + 3000);
    }
  });
});
