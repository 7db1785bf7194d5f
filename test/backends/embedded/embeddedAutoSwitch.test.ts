import { Ollama } from 'ollama';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeOllama } from '../../helpers/fakes/fakeOllama.js';
import { freePort } from '../../helpers/freePort.js';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';
import { events, readLog, waitForLog } from '../../helpers/log.js';
import { EMBEDDED_TEST_ENV, TEST_MODEL } from '../kindFakes.js';

// Auto mode on the embedded engine, then Ollama comes up (docs/embedded.md "Auto mode"): new requests
// go to Ollama; the stream running on the engine finishes there, uncut; then the engine's model
// unloads (not after its keep_alive of 5 minutes).

let j: TestJarvis | undefined;
let fake: FakeOllama | undefined;
afterEach(async () => {
  await j?.close();
  await fake?.stop();
  j = fake = undefined;
});

describe('auto mode leaving the embedded engine for Ollama', () => {
  it("unloads the engine's model once the stream running on it has ended", async () => {
    const port = await freePort();
    j = await startTestJarvis(
      { JARVIS_BACKEND: 'auto', ...EMBEDDED_TEST_ENV, OLLAMA_HOST: `http://127.0.0.1:${port}`, JARVIS_BACKEND_PROBE_MS: '200', JARVIS_KEEP_ALIVE: '5m' },
      { fake: false },
    );
    expect(events(j.logFile, 'backend_selected')[0]!.fields).toMatchObject({ backend: 'embedded' });
    const client = new Ollama({ host: j.url });
    // A long reply on the engine, under way when Ollama comes up.
    const running = await client.chat({ model: TEST_MODEL, messages: [{ role: 'user', content: 'tell me a story' }], stream: true, options: { num_predict: 1500, seed: 3 } });
    const parts: Array<{ done: boolean; done_reason?: string }> = [];
    const read = (async () => {
      for await (const part of running) parts.push(part);
    })();
    await waitForLog(j.logFile, 'engine_model_loaded', { model: TEST_MODEL }, 20_000);

    fake = await new FakeOllama().start(port);
    await waitForLog(j.logFile, 'backend_selected', { backend: 'ollama' }, 20_000);
    const unloaded = await waitForLog(j.logFile, 'engine_model_unloaded', { model: TEST_MODEL }, 30_000);
    expect(unloaded.fields).toMatchObject({ why: 'backend_switched' });

    // The stream on the engine was not cut: it ran to its token limit, and ended before the unload.
    await read;
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: 'length' });
    const lines = readLog(j.logFile).map((line) => line.event);
    expect(lines.indexOf('stream_end')).toBeLessThan(lines.indexOf('engine_model_unloaded'));
    // New requests go to Ollama; nothing of the engine is loaded any more.
    expect((await client.ps()).models.map((m) => m.name)).not.toContain(TEST_MODEL);
  });
});
