import type { Env } from '../env.js';
import type { SystemLog } from '../log/systemLog.js';
import type { Backend } from './types.js';

/** What a kind is told when it builds its backend, besides its own settings. */
export interface BuildContext {
  /**
   * auto mode will hand over to a kind before this one as soon as that one answers
   * (autoWatch.ts): what the demo tells people depends on it.
   */
  autoSwitches: boolean;
  /** The system log, for a kind that logs on its own (an in-process engine loading and unloading models, an engine still generating after its stream ended). */
  log?: SystemLog;
}

/**
 * One kind of backend, as the registry lists it (docs/backends.md). Everything
 * Jarvis needs to know about a kind is here; select.ts, autoWatch.ts, the config
 * and /health read it and know no kind by name.
 */
export interface BackendKind<Name extends string = string, Settings = unknown, B extends Backend = Backend> {
  /** The value of JARVIS_BACKEND that chooses it, and `Backend.name`. */
  readonly name: Name;
  /** How a sentence names it: "Ollama", "the OpenAI-compatible server" (/health `backend_label`, error messages). */
  readonly label: string;
  /** auto mode tries it, in the registry's order; the last kind auto tries must always answer. */
  readonly auto: boolean;
  /** Nothing to reach over the network: /health reports it as answering without asking it. */
  readonly inProcess: boolean;
  /** What the `no_models` log line suggests when it answers with no model. */
  readonly noModelsHint: string;
  /** Reads its own environment variables; a bad value throws ConfigError naming the variable. */
  settings(env: Env): Settings;
  /**
   * The variable that says where its server is (OLLAMA_HOST, OPENAI_BASE_URL, JARVIS_MODELS_DIR): a
   * JARVIS_UPSTREAMS entry's target is read as this variable (docs/upstreams.md). Absent: it takes no target (the demo).
   */
  readonly targetVariable?: string;
  /** Where its upstream is, for log lines; undefined for an in-process backend. */
  upstream(settings: Settings): string | undefined;
  build(settings: Settings, context: BuildContext): B;
  /** Whether it answers now: its model names, else a rejection saying why (a BackendError). */
  probe(backend: B, signal: AbortSignal): Promise<string[]>;
}

/**
 * Declares a kind with its types checked as one piece (the settings `settings`
 * returns are the ones `build` and `upstream` take).
 */
export function defineBackendKind<Name extends string, Settings, B extends Backend>(kind: BackendKind<Name, Settings, B>): BackendKind<Name, Settings, B> {
  return kind;
}
