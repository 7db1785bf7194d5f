import type { Env } from '../env.js';
import { demoKind } from './demo/kind.js';
import { embeddedKind } from './embedded/kind.js';
import type { BackendKind } from './kind.js';
import { ollamaKind } from './ollama/kind.js';
import { openaiKind } from './openai/kind.js';

/**
 * Every backend kind, one line each, in auto mode's order: auto takes the first
 * kind marked `auto` that answers its probe, so the demo, which always answers,
 * comes last (docs/backends.md "Add a backend").
 */
export const BACKEND_KINDS = [
  ollamaKind, // auto: first, when OLLAMA_HOST answers
  openaiKind, // auto: never (JARVIS_BACKEND=openai)
  embeddedKind, // auto: when JARVIS_MODELS_DIR holds a GGUF and node-llama-cpp is installed
  demoKind, // auto: the last resort
] as const;

export type BackendName = (typeof BACKEND_KINDS)[number]['name'];
/** JARVIS_BACKEND's values. */
export type BackendChoice = 'auto' | BackendName;
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', ...BACKEND_KINDS.map((k) => k.name)];

/** Each kind's settings, keyed by its name (Config.backends). */
export type BackendSettings = { [K in (typeof BACKEND_KINDS)[number] as K['name']]: ReturnType<K['settings']> };

/** Every kind's settings read from the environment; a bad value throws ConfigError. */
export function backendSettings(env: Env): BackendSettings {
  return Object.fromEntries(BACKEND_KINDS.map((kind) => [kind.name, kind.settings(env)])) as BackendSettings;
}

/** The kind of that name; undefined for a backend no kind registers (a test's own). */
export function kindNamed(name: string): BackendKind | undefined {
  return BACKEND_KINDS.find((kind) => kind.name === name);
}

/** The kinds auto mode tries, in order. */
export function autoKinds(): BackendKind[] {
  return BACKEND_KINDS.filter((kind) => kind.auto);
}

/** How a sentence names the backend of that name (/health `backend_label`). */
export function backendLabel(name: string): string {
  return kindNamed(name)?.label ?? name;
}
