import type { Llama } from 'node-llama-cpp';
import { BackendError } from '../types.js';
import { ENGINE_INSTALL, type GpuChoice } from './settings.js';

/** node-llama-cpp's exports: the type only; the module itself is imported on first use (docs/embedded.md "Install"). */
export type EngineModule = typeof import('node-llama-cpp');

/** What the embedded engine stands on: the module and its llama.cpp binding, made once. */
export interface Engine {
  module: EngineModule;
  llama: Llama;
}

/** The words every "not installed" answer uses: the log line at start, /health, the stream's error. */
export const NOT_INSTALLED = `the embedded engine is not installed: run \`${ENGINE_INSTALL}\``;

/**
 * Imports node-llama-cpp by name only here, so Jarvis starts without it (an
 * optional dependency): a failed import is an `engine_unavailable` BackendError
 * saying how to install it, its cause in `detail`.
 */
export async function importEngine(specifier: string): Promise<EngineModule> {
  try {
    return (await import(specifier)) as EngineModule;
  } catch (err) {
    // The detail repeats the fix: auto mode's log line (backend_selected) shows only the detail.
    throw new BackendError('engine_unavailable', NOT_INSTALLED, { detail: `${NOT_INSTALLED} (${err instanceof Error ? err.message : String(err)})` });
  }
}

/**
 * llama.cpp's binding, from the prebuilt binaries only (`build: 'never'`: nothing
 * compiles or downloads at run time). `gpu: auto` lets node-llama-cpp pick CUDA,
 * Vulkan or Metal when it finds one, else the CPU.
 */
export async function startEngine(specifier: string, gpu: GpuChoice): Promise<Engine> {
  const module = await importEngine(specifier);
  try {
    const llama = await module.getLlama({
      gpu: gpu === 'off' ? false : gpu,
      build: 'never',
      progressLogs: false,
      logLevel: module.LlamaLogLevel.warn,
    });
    return { module, llama };
  } catch (err) {
    throw new BackendError('engine_unavailable', `the embedded engine could not start llama.cpp (JARVIS_EMBEDDED_GPU=${gpu})`, {
      detail: err instanceof Error ? err.message : String(err),
    });
  }
}
