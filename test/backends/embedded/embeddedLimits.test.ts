import { mkdtempSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HealthResponse } from '../../../src/shared/events.js';
import { chat, postJson } from '../../helpers/chatClient.js';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';
import { waitForLog } from '../../helpers/log.js';
import { EMBEDDED_TEST_ENV, TEST_MODEL, TEST_MODELS_DIR } from '../kindFakes.js';

// The embedded engine's bounds and its absence (docs/embedded.md): JARVIS_EMBEDDED_PARALLEL sequences,
// JARVIS_EMBEDDED_QUEUE waiting beyond them, then 503 engine_busy with Retry-After; auto mode takes it
// only with a model in the directory; not installed, it says how to install it.

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});

const long = (session: string) => ({ session, body: { model: TEST_MODEL, messages: [{ role: 'user', content: 'go on' }], max_tokens: 100_000 } });
const health = async (t: TestJarvis) => (await (await fetch(`${t.url}/health`)).json()) as HealthResponse;

describe('embedded engine: parallel sequences and the queue', () => {
  it('one generating and one waiting fill parallel 1 + queue 1: the next is refused with 503 engine_busy and Retry-After; the waiting one goes next', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'embedded', ...EMBEDDED_TEST_ENV, JARVIS_EMBEDDED_PARALLEL: '1', JARVIS_EMBEDDED_QUEUE: '1' }, { fake: false });
    const first = chat(j.url, long('busy-1'));
    await first.firstToken();
    const second = chat(j.url, long('busy-2'));
    await waitForLog(j.logFile, 'engine_queued', { trace: await second.streamId });

    const refused = await postJson(`${j.url}/v1/chat/completions`, { model: TEST_MODEL, messages: [{ role: 'user', content: 'hi' }], stream: false });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.error).toMatchObject({ code: 'engine_busy' });
    expect(refused.body.error.message).toContain('JARVIS_EMBEDDED_PARALLEL');
    const ollama = await postJson(`${j.url}/api/chat`, { model: TEST_MODEL, messages: [{ role: 'user', content: 'hi' }] });
    expect(ollama.status).toBe(503);
    expect(ollama.headers.get('retry-after')).toBe('1');
    const ndjson = chat(j.url, { session: 'busy-3', body: { model: TEST_MODEL, messages: [{ role: 'user', content: 'hi' }] } });
    await ndjson.finished;
    expect(ndjson.terminal).toMatchObject({ type: 'error', code: 'engine_busy' });

    // The first stops; the waiting one gets the sequence and streams.
    await postJson(`${j.url}/v1/sessions/busy-1/stop`, {});
    await first.finished;
    await second.firstToken();
    await postJson(`${j.url}/v1/sessions/busy-2/stop`, {});
    await second.finished;
    expect(second.terminal).toMatchObject({ type: 'cancelled', reason: 'stopped' });
  });

  it('two sequences generate at once (parallel 2)', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'embedded', ...EMBEDDED_TEST_ENV, JARVIS_EMBEDDED_PARALLEL: '2', JARVIS_EMBEDDED_QUEUE: '0' }, { fake: false });
    const a = chat(j.url, long('par-a'));
    const b = chat(j.url, long('par-b'));
    await Promise.all([a.firstToken(), b.firstToken()]);
    const third = chat(j.url, { session: 'par-c', body: { model: TEST_MODEL, messages: [{ role: 'user', content: 'hi' }] } });
    await third.finished;
    expect(third.terminal).toMatchObject({ type: 'error', code: 'engine_busy' });
    await Promise.all(['par-a', 'par-b'].map((s) => postJson(`${j!.url}/v1/sessions/${s}/stop`, {})));
    await Promise.all([a.finished, b.finished]);
  });
});

describe('embedded engine in auto mode, and not installed', () => {
  it('auto: an empty models directory leaves the demo; a GGUF there makes it the embedded engine', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'auto', JARVIS_BACKEND_PROBE_MS: '0', JARVIS_MODELS_DIR: mkdtempSync(join(tmpdir(), 'jarvis-empty-')) }, { fake: false });
    expect(await health(j)).toMatchObject({ backend: 'demo' });
    const selected = await waitForLog(j.logFile, 'backend_selected');
    expect(selected.fields.reason).toContain('embedded not answering (no .gguf file in');
    await j.close();

    j = await startTestJarvis({ JARVIS_BACKEND: 'auto', JARVIS_BACKEND_PROBE_MS: '0', ...EMBEDDED_TEST_ENV }, { fake: false });
    expect(await health(j)).toMatchObject({ backend: 'embedded', backend_label: 'the embedded engine', model: TEST_MODEL });
  });

  it('not installed: JARVIS_BACKEND=embedded starts, says how to install it (log, /health), and a chat gets engine_unavailable in those words', async () => {
    // The one seam: the module name the engine is imported from (a name no package has stands for "not installed").
    const missing = { JARVIS_EMBEDDED_MODULE: 'node-llama-cpp-not-installed' };
    j = await startTestJarvis({ JARVIS_BACKEND: 'embedded', ...EMBEDDED_TEST_ENV, ...missing }, { fake: false });
    const install = 'npm install --no-save node-llama-cpp@3.21.1';
    expect((await waitForLog(j.logFile, 'backend_not_ready')).fields.error).toContain(install);
    const h = await health(j);
    expect(h.backend).toBe('embedded');
    expect(h.warnings?.join(' ')).toContain(install);
    const call = chat(j.url, { session: 'no-engine', body: { model: TEST_MODEL, messages: [{ role: 'user', content: 'hi' }] } });
    await call.finished;
    expect(call.terminal).toMatchObject({ type: 'error', code: 'engine_unavailable' });
    expect((call.terminal as { message: string }).message).toContain(install);
    await j.close();

    // auto: a GGUF there but no engine: the demo, and the same words in /health.
    const dir = mkdtempSync(join(tmpdir(), 'jarvis-models-'));
    copyFileSync(join(TEST_MODELS_DIR, `${TEST_MODEL}.gguf`), join(dir, `${TEST_MODEL}.gguf`));
    j = await startTestJarvis({ JARVIS_BACKEND: 'auto', JARVIS_BACKEND_PROBE_MS: '0', JARVIS_MODELS_DIR: dir, ...missing }, { fake: false });
    const auto = await health(j);
    expect(auto.backend).toBe('demo');
    expect(auto.warnings?.join(' ')).toContain(install);
  });
});
