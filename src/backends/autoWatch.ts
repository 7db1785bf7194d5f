import type { Config } from '../config.js';
import type { SystemLog } from '../log/systemLog.js';
import { autoKinds } from './registry.js';
import { buildKind, probe, selected, type SelectedBackend } from './select.js';
import type { Backend } from './types.js';

export interface AutoWatch {
  stop(): void;
}

/**
 * `JARVIS_BACKEND=auto` running on a fallback (the demo) because the kinds before
 * it did not answer at start-up: asks them again every `intervalMs`, in auto's
 * order, one request at a time and off the request path, and hands over once, to
 * the first that answers (docs/backends.md). Streams already running keep the
 * backend they started on. Undefined when there is nothing to watch for.
 */
export function watchAuto(config: Config, log: SystemLog, current: Backend, onAnswer: (selected: SelectedBackend) => void, intervalMs: number): AutoWatch | undefined {
  if (config.backend !== 'auto' || intervalMs <= 0) return undefined;
  const kinds = autoKinds();
  const at = kinds.findIndex((kind) => kind.name === current.name);
  const before = kinds.slice(0, at);
  if (at < 0 || before.length === 0) return undefined;
  const candidates = before.map((kind) => ({ kind, backend: buildKind(kind, config, false, log) }));

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = async () => {
    for (const { kind, backend } of candidates) {
      const found = await probe(kind, backend, Math.min(intervalMs, 1500));
      if (stopped) return;
      if (found.models === undefined) continue;
      onAnswer(selected(kind, backend, found, config, log, { reason: `${kind.name} answered`, previous: current.name }));
      return;
    }
    schedule();
  };
  const schedule = () => {
    timer = setTimeout(() => void tick(), intervalMs);
    timer.unref();
  };
  schedule();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
