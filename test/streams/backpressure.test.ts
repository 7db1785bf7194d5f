import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/shared/ndjson.js';
import type { JarvisEvent } from '../../src/shared/events.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';

// A slow reader must not make Jarvis buffer without bound: Jarvis stops pulling
// tokens from the upstream while its client is behind, and resumes when it drains.

let j: TestJarvis;
afterEach(async () => {
  await j?.close();
});

describe('back-pressure', () => {
  it('a reader that stops reading holds the stream back instead of filling Jarvis memory', async () => {
    j = await startTestJarvis();
    const TOKENS = 2000;
    const big = 'x'.repeat(16 * 1024);
    j.fake!.plan = () => ({ tokens: Array.from({ length: TOKENS }, (_, i) => `${i}:${big}`), tokenMs: 0 });

    const { res, streamId } = await new Promise<{ res: http.IncomingMessage; streamId: string }>((resolve, reject) => {
      const req = http.request(`${j.url}/v1/chat/completions`, { method: 'POST', headers: { 'x-session-id': 'slow-reader', 'content-type': 'application/json', accept: 'application/x-ndjson' } }, (res) =>
        resolve({ res, streamId: String(res.headers['x-stream-id']) }),
      );
      req.on('error', reject);
      req.end(JSON.stringify({ messages: [{ role: 'user', content: 'flood' }] }));
    });
    res.pause();

    // The fake writes all 32 MiB into its own buffers at once; wait for that.
    const upstream = await j.fake!.waitForRequest();
    await expect.poll(() => upstream.tokensSent, { timeout: 20_000, interval: 20 }).toBe(TOKENS);
    const stream = j.jarvis.ctx.registry.get(streamId);
    expect(stream).toBeDefined();
    // Jarvis forwarded only what the socket buffers hold, not the whole reply.
    expect(stream!.tokens).toBeLessThan(TOKENS * 0.75);
    expect(stream!.state).toBe('streaming');

    // Reading again drains everything, in order, with one done.
    const events: JarvisEvent[] = [];
    const splitter = new LineSplitter(1 << 22);
    res.on('data', (chunk: Buffer) => {
      for (const line of splitter.push(chunk)) events.push(JSON.parse(line) as JarvisEvent);
    });
    res.resume();
    await new Promise((resolve) => res.on('end', resolve));
    const tokens = events.filter((e) => e.type === 'token');
    expect(tokens).toHaveLength(TOKENS);
    expect(tokens.every((t, i) => t.type === 'token' && t.seq === i && t.text.startsWith(`${i}:`))).toBe(true);
    expect(events.at(-1)?.type).toBe('done');
  });
});
