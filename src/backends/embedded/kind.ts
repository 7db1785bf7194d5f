import { defineBackendKind } from '../kind.js';
import { EmbeddedBackend } from './backend.js';
import { embeddedSettings } from './settings.js';

/** llama.cpp inside Jarvis, on the GGUF files of JARVIS_MODELS_DIR (docs/embedded.md). */
export const embeddedKind = defineBackendKind({
  name: 'embedded',
  label: 'the embedded engine',
  auto: true,
  inProcess: true,
  noModelsHint: 'copy a .gguf file into JARVIS_MODELS_DIR (docs/embedded.md)',
  targetVariable: 'JARVIS_MODELS_DIR',
  settings: (env) => embeddedSettings(env),
  upstream: () => undefined,
  build: (settings, context) => new EmbeddedBackend(settings, context.log),
  probe: (backend) => backend.models(),
});
