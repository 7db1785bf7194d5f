import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { chat } from '../helpers/chatClient.js';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { spawnJarvis, type JarvisProcess } from '../helpers/jarvisProcess.js';
import { startTestJarvis } from '../helpers/jarvisServer.js';

// Tracing off (no OTEL_EXPORTER_OTLP_* variable): the OpenTelemetry SDK is never imported, and
// nothing of tracing runs per request (docs/observability.md "Traces (OpenTelemetry)", cost).

const forbid = fileURLToPath(new URL('./fixtures/forbidOpenTelemetry.mjs', import.meta.url));
let proc: JarvisProcess | undefined;
let fake: FakeOllama | undefined;
afterEach(async () => {
  proc?.proc.kill('SIGKILL');
  await proc?.exited;
  await fake?.stop();
  proc = fake = undefined;
});

describe('tracing off', () => {
  it('a Jarvis process that may import no @opentelemetry module serves streams', async () => {
    fake = await new FakeOllama().start();
    proc = await spawnJarvis({ JARVIS_BACKEND: 'ollama', OLLAMA_HOST: fake.url, NODE_OPTIONS: `--import=${forbid}` });
    const call = chat(proc.url, { session: 'off', prompt: 'plain' });
    await call.finished;
    expect(call.terminal?.type).toBe('done');
    expect(fake.requests[0]!.traceparent).toBeUndefined();
    expect(proc.output()).not.toContain('forbidden import');
  });

  it('the same process with tracing configured imports the SDK (so the check above can fail)', async () => {
    fake = await new FakeOllama().start();
    const started = spawnJarvis({ JARVIS_BACKEND: 'ollama', OLLAMA_HOST: fake.url, NODE_OPTIONS: `--import=${forbid}`, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    await expect(started).rejects.toThrow(/forbidden import: @opentelemetry\//);
  });

  it('the server holds no tracer', async () => {
    const j = await startTestJarvis();
    try {
      expect(j.jarvis.ctx.tracing).toBeUndefined();
      expect(j.jarvis.ctx.config.tracing).toBeUndefined();
    } finally {
      await j.close();
    }
  });
});
