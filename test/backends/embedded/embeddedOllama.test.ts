import { copyFileSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ollama, type ChatResponse } from 'ollama';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';
import { waitForLog } from '../../helpers/log.js';
import { EMBEDDED_TEST_ENV, TEST_MODEL, TEST_MODELS_DIR } from '../kindFakes.js';

// The Ollama API in front of the embedded engine (docs/embedded.md): chat and generate stream from
// the tiny GGUF; tags and show read its header; ps shows it loaded, with its memory and when
// keep_alive unloads it; keep_alive 0 unloads it once idle.

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});

const ollama = (t: TestJarvis) => new Ollama({ host: t.url });

describe('the Ollama API on the embedded engine', () => {
  it('chat and generate stream; tags, show and ps describe the model from its GGUF header', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'embedded', ...EMBEDDED_TEST_ENV, JARVIS_KEEP_ALIVE: '10m' }, { fake: false });
    const client = ollama(j);
    expect((await client.ps()).models).toEqual([]);

    const parts: ChatResponse[] = [];
    for await (const part of await client.chat({ model: TEST_MODEL, messages: [{ role: 'user', content: 'Hello' }], stream: true, options: { num_predict: 12, seed: 5, temperature: 0.7, top_k: 20, repeat_penalty: 1.1 } })) parts.push(part);
    const last = parts.at(-1)!;
    expect(last).toMatchObject({ done: true, done_reason: 'length', eval_count: 12 });
    expect(last.prompt_eval_count).toBeGreaterThan(0);
    expect(parts.map((p) => p.message.content).join('').length).toBeGreaterThan(0);

    const generated = await client.generate({ model: TEST_MODEL, prompt: 'Once upon a time', stream: false, options: { num_predict: 6, seed: 1 } });
    expect(generated).toMatchObject({ done: true, done_reason: 'length', eval_count: 6 });
    expect(generated.response?.length).toBeGreaterThan(0);

    const tags = await client.list();
    // Listed with a tag, as Ollama lists names (the embedded engine names a model by its file).
    expect(tags.models.map((m) => m.name)).toEqual([`${TEST_MODEL}:latest`]);
    expect(tags.models[0]).toMatchObject({ size: statSync(join(TEST_MODELS_DIR, `${TEST_MODEL}.gguf`)).size, details: { format: 'gguf', family: 'llama', quantization_level: 'F16' } });
    expect(tags.models[0]!.details.parameter_size).toMatch(/^\d+(\.\d)?[KMB]$/);

    const show = await client.show({ model: `${TEST_MODEL}:latest` });
    expect(show.model_info).toMatchObject({ 'general.architecture': 'llama', 'llama.context_length': 4096 });
    expect(show.details).toMatchObject({ family: 'llama', format: 'gguf' });

    // The Ollama API level for clients that compare versions; the engine's own on its log line.
    expect((await client.version()).version).toBe('0.12.0');
    expect((await waitForLog(j.logFile, 'engine_model_loaded')).fields).toMatchObject({ node_llama_cpp: '3.21.1', gpu: 'false' });

    const ps = await client.ps();
    expect(ps.models.map((m) => m.name)).toEqual([`${TEST_MODEL}:latest`]);
    const running = ps.models[0]!;
    expect(running.size).toBeGreaterThan(1_000_000);
    expect(running.size_vram).toBe(0);
    const expires = new Date(running.expires_at).getTime();
    // keep_alive 10m from the end of the last request.
    expect(expires).toBeGreaterThan(Date.now() + 9 * 60_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 10 * 60_000 + 1000);
  });

  it("a request's keep_alive 0 unloads the model once it is idle (ps empty after)", async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'embedded', ...EMBEDDED_TEST_ENV }, { fake: false });
    const client = ollama(j);
    await client.generate({ model: TEST_MODEL, prompt: 'hi', stream: false, keep_alive: 0, options: { num_predict: 4 } });
    await waitForLog(j.logFile, 'engine_model_unloaded', { model: TEST_MODEL, why: 'keep_alive' });
    expect((await client.ps()).models).toEqual([]);
    // Loaded again on the next request.
    const again = await client.generate({ model: TEST_MODEL, prompt: 'hi', stream: false, options: { num_predict: 4 } });
    expect(again.done).toBe(true);
    expect((await client.ps()).models.map((m) => m.name)).toEqual([`${TEST_MODEL}:latest`]);
  });

  it('a file that is not a GGUF is listed, and a request for it fails in words (the others still work)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jarvis-models-'));
    copyFileSync(join(TEST_MODELS_DIR, `${TEST_MODEL}.gguf`), join(dir, `${TEST_MODEL}.gguf`));
    writeFileSync(join(dir, 'broken.gguf'), 'this is not a GGUF file at all, only text');
    j = await startTestJarvis({ JARVIS_BACKEND: 'embedded', ...EMBEDDED_TEST_ENV, JARVIS_MODELS_DIR: dir }, { fake: false });
    const client = ollama(j);
    expect((await client.list()).models.map((m) => m.name)).toEqual(['broken:latest', `${TEST_MODEL}:latest`]);
    const err = await client.generate({ model: 'broken', prompt: 'hi', stream: false }).catch((e: unknown) => e);
    expect(String((err as Error).message)).toContain('could not be loaded');
    const ok = await client.generate({ model: TEST_MODEL, prompt: 'hi', stream: false, options: { num_predict: 3 } });
    expect(ok.done).toBe(true);
    const missing = await client.generate({ model: 'nope', prompt: 'hi', stream: false }).catch((e: unknown) => e);
    expect(String((missing as Error).message)).toContain('model "nope" not found');
  });
});
