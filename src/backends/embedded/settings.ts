import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { ConfigError, int, oneOf, type Env } from '../../env.js';
import { parseKeepAlive } from './pool/keepAlive.js';

/** Where llama.cpp computes: `auto` uses a GPU when node-llama-cpp finds one, `off` only the CPU. */
export const GPU_CHOICES = ['auto', 'off', 'cuda', 'vulkan', 'metal'] as const;
export type GpuChoice = (typeof GPU_CHOICES)[number];

/** The embedded engine's settings (docs/embedded.md, docs/configuration.md). */
export interface EmbeddedSettings {
  /** JARVIS_MODELS_DIR, absolute: the GGUF files in it are the models. */
  modelsDir: string;
  /** JARVIS_EMBEDDED_PARALLEL: sequences generating at once, per loaded model. */
  parallel: number;
  /** JARVIS_EMBEDDED_QUEUE: requests waiting for a sequence beyond those; more are refused (`engine_busy`). */
  queue: number;
  /** JARVIS_EMBEDDED_THREADS: CPU threads evaluating tokens. */
  threads: number;
  /** JARVIS_EMBEDDED_CONTEXT: context tokens per sequence (capped by what the model was trained on). */
  contextTokens: number;
  /** JARVIS_EMBEDDED_GPU. */
  gpu: GpuChoice;
  /** JARVIS_KEEP_ALIVE in ms (Infinity: never unload); a request's own `keep_alive` wins. */
  keepAliveMs: number;
  /** The module the engine is imported from; only tests change it (to stage "not installed"). */
  module: string;
}

/** The package and version Jarvis is tested with; docs/embedded.md says why it is pinned. */
export const ENGINE_PACKAGE = 'node-llama-cpp';
export const ENGINE_VERSION = '3.21.1';
export const ENGINE_INSTALL = `npm install --no-save ${ENGINE_PACKAGE}@${ENGINE_VERSION}`;

/**
 * Threads that leave one core to the server: on a small machine, more threads than
 * free cores spin against each other and generation slows down a hundredfold.
 */
export function defaultThreads(cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores - 1, 8));
}

export function embeddedSettings(env: Env, cwd = process.cwd()): EmbeddedSettings {
  const keepAliveRaw = env.JARVIS_KEEP_ALIVE;
  const keepAliveMs = keepAliveRaw === undefined || keepAliveRaw === '' ? 5 * 60_000 : parseKeepAlive(keepAliveRaw);
  if (keepAliveMs === undefined) throw new ConfigError(`JARVIS_KEEP_ALIVE must be a duration (5m, 30s, 1h) or seconds (-1 keeps models loaded), got ${JSON.stringify(keepAliveRaw)}`);
  return {
    modelsDir: resolve(cwd, env.JARVIS_MODELS_DIR || 'models'),
    parallel: int(env, 'JARVIS_EMBEDDED_PARALLEL', 2, 1),
    queue: int(env, 'JARVIS_EMBEDDED_QUEUE', 16, 0),
    threads: int(env, 'JARVIS_EMBEDDED_THREADS', defaultThreads(), 1),
    contextTokens: int(env, 'JARVIS_EMBEDDED_CONTEXT', 4096, 64),
    gpu: oneOf(env, 'JARVIS_EMBEDDED_GPU', GPU_CHOICES, 'auto'),
    keepAliveMs,
    module: env.JARVIS_EMBEDDED_MODULE || ENGINE_PACKAGE,
  };
}
