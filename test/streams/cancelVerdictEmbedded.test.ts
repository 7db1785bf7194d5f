import { afterEach, describe, expect, it } from 'vitest';
import type { DebugStreamsResponse } from '../../src/server/operations/debug.js';
import { chat, postJson } from '../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';
import { EMBEDDED_TEST_ENV, TEST_MODEL } from '../backends/kindFakes.js';

// Stop verified at the engine, on the real engine (node-llama-cpp, the tiny GGUF): the sequence's
// evaluation has ended and the sequence is free, and that verdict reaches stream_end, the stop
// answer and /metrics (docs/operations.md "Stop at the engine").

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});

describe('the cancel verdict, embedded backend', () => {
  it('Stop: confirmed, sequence_free, in the stop answer, stream_end and /metrics; nothing lingers', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'embedded', ...EMBEDDED_TEST_ENV }, { fake: false });
    const call = chat(j.url, { session: 'v-embedded', body: { model: TEST_MODEL, messages: [{ role: 'user', content: 'Tell me a long story' }], max_tokens: 100_000, seed: 3 } });
    await call.firstToken();
    const stop = await postJson(`${j.url}/v1/sessions/v-embedded/stop`, '');
    expect(stop.body).toMatchObject({ stopped: true, engine: { verdict: 'confirmed', how: 'sequence_free' } });
    await call.finished;
    const end = await waitForLog(j.logFile, 'stream_end', { trace: await call.streamId });
    expect(end.fields).toMatchObject({ reason: 'stopped', cancel: 'confirmed', cancel_how: 'sequence_free' });
    expect(Number(end.fields.cancel_ms)).toBe(stop.body.engine.ms);

    const text = await (await fetch(`${j.url}/metrics`)).text();
    expect(text).toContain('jarvis_cancels_total{backend="embedded",verdict="confirmed"} 1');
    expect(text).toContain('jarvis_engine_stop_seconds_count{backend="embedded"} 1');
    const debug = (await (await fetch(`${j.url}/debug/streams`)).json()) as DebugStreamsResponse;
    expect(debug.lingering).toEqual([]);
  });
});
