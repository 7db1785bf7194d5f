import { afterEach, describe, expect, it } from 'vitest';
import { autoKinds, BACKEND_CHOICES, BACKEND_KINDS } from '../../src/backends/registry.js';
import { loadConfig } from '../../src/config.js';
import type { HealthResponse } from '../../src/shared/events.js';
import { chat } from '../helpers/chatClient.js';
import type { FakeUpstream } from '../helpers/fakes/fakeUpstream.js';
import { startTestJarvis, type TestJarvis } from '../helpers/jarvisServer.js';
import { waitForLog } from '../helpers/log.js';
import { fakeOf, KIND_FAKES } from './kindFakes.js';

// The backend registry (docs/backends.md): every kind is complete, auto walks the
// kinds in the registry's order, and each kind runs behind a real Jarvis with its
// fake upstream, named in /health as the UI's banner shows it.

let j: TestJarvis | undefined;
let fake: FakeUpstream | undefined;
afterEach(async () => {
  await j?.close();
  await fake?.stop();
  j = fake = undefined;
});

async function health(url: string): Promise<HealthResponse> {
  return (await (await fetch(`${url}/health`)).json()) as HealthResponse;
}

describe('the backend registry', () => {
  it('lists every kind once, each with a name JARVIS_BACKEND takes, a label, its settings, a probe and a build', () => {
    const names = BACKEND_KINDS.map((k) => k.name);
    expect(new Set(names).size).toBe(names.length);
    expect(BACKEND_CHOICES).toEqual(['auto', ...names]);
    for (const kind of BACKEND_KINDS) {
      expect(kind.name).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(kind.label.length).toBeGreaterThan(0);
      expect(typeof kind.probe).toBe('function');
      const config = loadConfig({ JARVIS_BACKEND: kind.name });
      expect(config.backend).toBe(kind.name);
      // Its settings are read from the environment, with defaults that need nothing set.
      expect(config.backends[kind.name]).toEqual(kind.settings({}));
      const backend = kind.build(config.backends[kind.name] as never, { autoSwitches: false });
      expect(backend.name).toBe(kind.name);
      expect(kind.upstream(config.backends[kind.name] as never) === undefined).toBe(kind.inProcess);
      expect(KIND_FAKES).toHaveProperty(kind.name);
      expect(fakeOf(KIND_FAKES[kind.name]) === undefined).toBe(kind.inProcess);
    }
    expect(() => loadConfig({ JARVIS_BACKEND: 'nope' })).toThrow(`JARVIS_BACKEND must be one of ${BACKEND_CHOICES.join(', ')}`);
  });

  it("keeps auto's order: Ollama if it answers, else the embedded engine if it has a model, else the demo, which always answers", async () => {
    expect(autoKinds().map((k) => k.name)).toEqual(['ollama', 'embedded', 'demo']);
    const last = autoKinds().at(-1)!;
    expect(last.inProcess).toBe(true);
    const backend = last.build(last.settings({}), { autoSwitches: true });
    expect((await last.probe(backend, AbortSignal.timeout(1000))).length).toBeGreaterThan(0);
  });

  it('/health shows auto mode its order, and no order when a backend is chosen', async () => {
    j = await startTestJarvis({ JARVIS_BACKEND: 'auto', OLLAMA_HOST: 'http://127.0.0.1:9' }, { fake: false });
    expect(await health(j.url)).toMatchObject({ backend: 'demo', auto_order: ['ollama', 'embedded', 'demo'] });
    await j.close();
    j = await startTestJarvis({ JARVIS_BACKEND: 'demo' }, { fake: false });
    expect(await health(j.url)).not.toHaveProperty('auto_order');
  });

  for (const kind of BACKEND_KINDS) {
    it(`${kind.name}: chosen by JARVIS_BACKEND, named in /health with its label, streams a reply, and its upstream's absence shows`, async () => {
      const entry = KIND_FAKES[kind.name];
      const kindFake = fakeOf(entry);
      fake = kindFake ? await kindFake.start() : undefined;
      const env = kindFake ? (fake ? kindFake.env(fake.url) : {}) : (entry as { env: Record<string, string> }).env;
      j = await startTestJarvis({ JARVIS_BACKEND: kind.name, ...env }, { fake: false });
      const selected = await waitForLog(j.logFile, 'backend_selected');
      expect(selected.fields).toMatchObject({ backend: kind.name, choice: kind.name });
      expect(await health(j.url)).toMatchObject({ backend: kind.name, backend_label: kind.label });
      await expect.poll(async () => (await health(j!.url)).upstream, { timeout: 10_000, interval: 50 }).toBe('ok');

      const call = chat(j.url, { session: `registry-${kind.name}`, prompt: 'hello' });
      await call.finished;
      expect(call.terminal?.type).toBe('done');
      expect(call.text.length).toBeGreaterThan(0);

      if (fake) {
        // What the UI's "model server is not answering" banner reads.
        await fake.stop();
        fake = undefined;
        await expect.poll(async () => (await health(j!.url)).upstream, { timeout: 10_000, interval: 50 }).toBe('unreachable');
        expect(await health(j.url)).toMatchObject({ backend: kind.name, backend_label: kind.label });
      }
    });
  }
});
