import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestJarvis, type TestJarvis } from '../../helpers/jarvisServer.js';
import { events, waitForLog } from '../../helpers/log.js';
import { EMBEDDED_TEST_ENV, TEST_MODEL, TEST_MODELS_DIR } from '../kindFakes.js';

// Ollama's load and unload calls on the embedded engine (docs/embedded.md "Loading and unloading"):
// a chat without messages or a generate without a prompt loads the model and keeps it for its
// keep_alive; with keep_alive 0 it unloads it. /api/ps shows each step.

let j: TestJarvis | undefined;
afterEach(async () => {
  await j?.close();
  j = undefined;
});

describe("Ollama's load and unload calls on the embedded engine", () => {
  it('chat with no messages loads the model for its keep_alive; keep_alive 0 unloads it', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'embedded', ...EMBEDDED_TEST_ENV }, { fake: false });
    const client = new Ollama({ host: j.url });
    expect((await client.ps()).models).toEqual([]);

    const loaded = await client.chat({ model: TEST_MODEL, messages: [], keep_alive: '10m' });
    expect(loaded).toMatchObject({ model: TEST_MODEL, done: true, done_reason: 'load', message: { role: 'assistant', content: '' } });
    const ps = (await client.ps()).models;
    expect(ps.map((m) => m.name)).toEqual([`${TEST_MODEL}:latest`]);
    // Kept for the call's keep_alive, counted from the call.
    expect(new Date(ps[0]!.expires_at).getTime()).toBeGreaterThan(Date.now() + 9 * 60_000);
    // The log line is written asynchronously: wait for it, then check it is the only one.
    await waitForLog(j.logFile, 'engine_model_loaded', { model: TEST_MODEL });
    expect(events(j.logFile, 'engine_model_loaded', { model: TEST_MODEL })).toHaveLength(1);

    const unloaded = await client.chat({ model: TEST_MODEL, messages: [], keep_alive: 0 });
    expect(unloaded).toMatchObject({ model: TEST_MODEL, done: true, done_reason: 'unload', message: { role: 'assistant', content: '' } });
    // Unloaded before the answer: ps is empty at once.
    expect((await client.ps()).models).toEqual([]);
    expect((await waitForLog(j.logFile, 'engine_model_unloaded', { model: TEST_MODEL })).fields).toMatchObject({ why: 'unload_request' });
  });

  it('generate with an empty prompt loads the model; a later chat uses it without loading again', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'embedded', ...EMBEDDED_TEST_ENV }, { fake: false });
    const client = new Ollama({ host: j.url });
    const loaded = await client.generate({ model: TEST_MODEL, prompt: '' });
    expect(loaded).toMatchObject({ model: TEST_MODEL, done: true, done_reason: 'load', response: '' });
    expect((await client.ps()).models.map((m) => m.name)).toEqual([`${TEST_MODEL}:latest`]);

    const reply = await client.chat({ model: TEST_MODEL, messages: [{ role: 'user', content: 'hi' }], options: { num_predict: 4, seed: 1 } });
    expect(reply.done).toBe(true);
    // The log line is written asynchronously: wait for it, then check it is the only one.
    await waitForLog(j.logFile, 'engine_model_loaded', { model: TEST_MODEL });
    expect(events(j.logFile, 'engine_model_loaded', { model: TEST_MODEL })).toHaveLength(1);

    const unloaded = await client.generate({ model: TEST_MODEL, prompt: '', keep_alive: 0 });
    expect(unloaded).toMatchObject({ done: true, done_reason: 'unload', response: '' });
    expect((await client.ps()).models).toEqual([]);
    // Unloading a model that is not loaded answers the same.
    expect(await client.generate({ model: TEST_MODEL, prompt: '', keep_alive: 0 })).toMatchObject({ done_reason: 'unload' });
  });

  it('a load call for a model that does not exist is 404, in words', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'embedded', ...EMBEDDED_TEST_ENV }, { fake: false });
    const client = new Ollama({ host: j.url });
    const err = await client.chat({ model: 'nope', messages: [] }).catch((e: unknown) => e);
    expect(String((err as Error).message)).toContain('model "nope" not found');
    expect((await client.ps()).models).toEqual([]);
  });
});

describe('digest in /api/tags and /api/ps on the embedded engine', () => {
  it("is the GGUF file's sha256, computed in the background from start-up on", async () => {
    const expected = createHash('sha256').update(readFileSync(join(TEST_MODELS_DIR, `${TEST_MODEL}.gguf`))).digest('hex');
    j = await startTestJarvis({ JARVIS_BACKEND: 'embedded', ...EMBEDDED_TEST_ENV }, { fake: false });
    const client = new Ollama({ host: j.url });
    // Known once hashed (a 1.75 MB file: milliseconds); the listing never waits for it.
    const deadline = Date.now() + 15_000;
    let digest = '';
    while (digest === '' && Date.now() < deadline) {
      digest = (await client.list()).models[0]!.digest;
      if (digest === '') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(digest).toBe(expected);
    await client.generate({ model: TEST_MODEL, prompt: '' });
    expect((await client.ps()).models[0]!.digest).toBe(expected);
  });
});
