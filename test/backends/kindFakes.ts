import { fileURLToPath } from 'node:url';
import type { BackendName } from '../../src/backends/registry.js';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { FakeOpenAI } from '../helpers/fakes/fakeOpenAI.js';
import type { FakeUpstream } from '../helpers/fakes/fakeUpstream.js';

/** How the tests stand in for one kind's upstream: its fake, and the variables that point Jarvis at it. */
export interface KindFake {
  start(port?: number): Promise<FakeUpstream>;
  env(url: string): Record<string, string>;
}

/** An in-process kind: no upstream to fake, only the variables it runs on in tests. */
export interface InProcessKind {
  env: Record<string, string>;
}

/** The tiny GGUF the embedded engine runs in tests (its provenance: test/fixtures/models/README.md). */
export const TEST_MODELS_DIR = fileURLToPath(new URL('../fixtures/models', import.meta.url));
export const TEST_MODEL = 'llama-2-tiny-random';

/** The embedded engine as the tests run it: the tiny model, one thread (more spin against each other on a small box), no GPU. */
export const EMBEDDED_TEST_ENV: Record<string, string> = { JARVIS_MODELS_DIR: TEST_MODELS_DIR, JARVIS_EMBEDDED_THREADS: '1', JARVIS_EMBEDDED_GPU: 'off' };

/**
 * One entry per registered kind (docs/backends.md "Add a backend"): its fake, or
 * for an in-process kind the variables it runs on. The type makes a new kind's
 * entry required, and backendRegistry.test.ts runs every kind through it.
 */
export const KIND_FAKES: Record<BackendName, KindFake | InProcessKind> = {
  ollama: { start: (port) => new FakeOllama().start(port), env: (url) => ({ OLLAMA_HOST: url }) },
  openai: { start: (port) => new FakeOpenAI().start(port), env: (url) => ({ OPENAI_BASE_URL: `${url}/v1` }) },
  // A random-weight model writes until its limit: a short one keeps the registry's run quick.
  embedded: { env: { ...EMBEDDED_TEST_ENV, JARVIS_MAX_TOKENS_DEFAULT: '64' } },
  demo: { env: {} },
};

/** The entry's fake, when its kind has an upstream. */
export function fakeOf(entry: KindFake | InProcessKind): KindFake | undefined {
  return 'start' in entry ? entry : undefined;
}
