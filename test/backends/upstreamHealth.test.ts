import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HealthResponse } from '../../src/shared/events.js';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { chat } from '../helpers/chatClient.js';
import { freePort } from '../helpers/freePort.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';

// /health says whether the model server answers (the UI's "model server is down"
// banner), and `done` carries the answer's timings (the UI's TTFT and tokens/s).

const WAIT = { timeout: 15_000, interval: 100 };

let fake: FakeOllama | undefined;
let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  await fake?.stop();
  j = fake = undefined;
});

async function health(url: string): Promise<HealthResponse> {
  return (await (await fetch(`${url}/health`)).json()) as HealthResponse;
}

describe('/health upstream', () => {
  it('ok while the model server answers, unreachable once it stops, ok again when it is back; each change logged once', async () => {
    const port = await freePort();
    fake = await new FakeOllama().start(port);
    j = await startTestJarvis({ JARVIS_BACKEND: 'ollama', OLLAMA_HOST: `http://127.0.0.1:${port}` }, { fake: false });
    await expect.poll(async () => (await health(j!.url)).upstream, WAIT).toBe('ok');

    await fake.stop();
    await expect.poll(async () => (await health(j!.url)).upstream, WAIT).toBe('unreachable');
    const down = await waitForLog(j.logFile, 'upstream_health', { state: 'unreachable' });
    expect(down.fields).toMatchObject({ backend: 'ollama' });

    fake = await new FakeOllama().start(port);
    await expect.poll(async () => (await health(j!.url)).upstream, WAIT).toBe('ok');
    await waitForLog(j.logFile, 'upstream_health', { state: 'ok' });
  });

  it('answers at once while the model server hangs (the probe runs in the background, and times out)', async () => {
    // A model server that accepts connections and never answers.
    const sockets = new Set<Socket>();
    const hung = createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    try {
      const port = (hung.address() as AddressInfo).port;
      j = await startTestJarvis({ JARVIS_BACKEND: 'ollama', OLLAMA_HOST: `http://127.0.0.1:${port}` }, { fake: false });
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const body = await health(j.url);
        expect(performance.now() - started).toBeLessThan(1000);
        expect(['unknown', 'unreachable']).toContain(body.upstream);
      }
      await expect.poll(async () => (await health(j!.url)).upstream, WAIT).toBe('unreachable');
    } finally {
      for (const s of sockets) s.destroy();
      hung.close();
    }
  });

  it('is ok on the demo backend, which has nothing to reach', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'demo' });
    expect((await health(j.url)).upstream).toBe('ok');
  });
});

describe('done event timings', () => {
  it('carries ttft_ms and duration_ms', async () => {
    j = await startTestJarvis();
    j.fake!.plan = () => ({ tokens: ['a', 'b', 'c'], tokenMs: 20, firstTokenMs: 60 });
    const call = chat(j.url, { session: 's', prompt: 'hi' });
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'done', usage: { completion_tokens: 3 } });
    const timings = (call.terminal as { timings?: { ttft_ms?: number; duration_ms: number } }).timings;
    expect(timings?.ttft_ms).toBeGreaterThanOrEqual(50);
    expect(timings?.duration_ms).toBeGreaterThanOrEqual(timings!.ttft_ms! + 30);
  });
});
