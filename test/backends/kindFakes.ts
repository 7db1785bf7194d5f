import type { BackendName } from '../../src/backends/registry.js';
import { FakeOllama } from '../helpers/fakes/fakeOllama.js';
import { FakeOpenAI } from '../helpers/fakes/fakeOpenAI.js';
import type { FakeUpstream } from '../helpers/fakes/fakeUpstream.js';

/** How the tests stand in for one kind's upstream: its fake, and the variables that point Jarvis at it. */
export interface KindFake {
  start(port?: number): Promise<FakeUpstream>;
  env(url: string): Record<string, string>;
}

/**
 * One entry per registered kind (docs/backends.md "Add a backend"): `null` for an
 * in-process kind, which has no upstream to fake. The type makes a new kind's
 * entry required, and backendRegistry.test.ts runs every kind through it.
 */
export const KIND_FAKES: Record<BackendName, KindFake | null> = {
  ollama: { start: (port) => new FakeOllama().start(port), env: (url) => ({ OLLAMA_HOST: url }) },
  openai: { start: (port) => new FakeOpenAI().start(port), env: (url) => ({ OPENAI_BASE_URL: `${url}/v1` }) },
  demo: null,
};
