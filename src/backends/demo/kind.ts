import { int, type Env } from '../../env.js';
import { defineBackendKind } from '../kind.js';
import { DEMO_MODEL, DemoBackend } from './backend.js';

export interface DemoSettings {
  /** JARVIS_DEMO_TOKEN_MS: the pause before each token, as a slow model would take. */
  tokenMs: number;
}

/** The offline demo: a canned, honest reply, so Jarvis can be tried with nothing installed (docs/backends.md). */
export const demoKind = defineBackendKind({
  name: 'demo',
  label: 'the demo',
  auto: true,
  inProcess: true,
  noModelsHint: '',
  settings: (env: Env): DemoSettings => ({ tokenMs: int(env, 'JARVIS_DEMO_TOKEN_MS', 30) }),
  upstream: () => undefined,
  build: (settings, context) => new DemoBackend(settings.tokenMs, context),
  probe: async () => [DEMO_MODEL],
});
