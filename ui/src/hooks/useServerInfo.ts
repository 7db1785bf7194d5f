// What the header needs from the server: which backend runs (for the demo banner)
// and which models can be picked. Both are advisory: the chat works without them.

import { useEffect, useState } from 'react';
import type { HealthResponse } from '../../../src/shared/events.js';
import { type Api, getHealth, getModels } from '../lib/api.js';

export interface ServerInfo {
  health: HealthResponse | null;
  /** null while loading; [] when the backend could not list any. */
  models: string[] | null;
  /** Set when /health failed: the server is down or unreachable. */
  unreachable: boolean;
}

/** `generation` changes after a sign-in: what was refused without a key is asked for again. */
export function useServerInfo(api: Api, generation = 0): ServerInfo {
  const [info, setInfo] = useState<ServerInfo>({ health: null, models: null, unreachable: false });
  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    getHealth(api, signal).then(
      (health) => setInfo((i) => ({ ...i, health, unreachable: false })),
      () => !signal.aborted && setInfo((i) => ({ ...i, unreachable: true })),
    );
    getModels(api, signal).then(
      (models) => setInfo((i) => ({ ...i, models })),
      () => !signal.aborted && setInfo((i) => ({ ...i, models: [] })),
    );
    return () => controller.abort();
  }, [api, generation]);
  return info;
}
