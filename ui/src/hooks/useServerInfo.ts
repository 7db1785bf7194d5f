// What the header needs from the server: which backend runs (for the demo banner)
// and which models can be picked. Both are advisory: the chat works without them.
// /health is read again every few seconds: in auto mode the server switches from
// the demo to Ollama once Ollama answers, and the banner and the model list follow.

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

export const HEALTH_POLL_MS = 5000;

/** `generation` changes after a sign-in: what was refused without a key is asked for again. */
export function useServerInfo(api: Api, generation = 0, pollMs = HEALTH_POLL_MS): ServerInfo {
  const [info, setInfo] = useState<ServerInfo>({ health: null, models: null, unreachable: false });
  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    let backend: string | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refresh = async () => {
      try {
        const health = await getHealth(api, signal);
        setInfo((i) => ({ ...i, health, unreachable: false }));
        // The model list belongs to the backend: read again when the backend changed.
        if (health.backend !== backend) {
          backend = health.backend;
          getModels(api, signal).then(
            (models) => setInfo((i) => ({ ...i, models })),
            () => !signal.aborted && setInfo((i) => ({ ...i, models: [] })),
          );
        }
      } catch {
        if (!signal.aborted) setInfo((i) => ({ ...i, unreachable: true }));
      }
      if (!signal.aborted) timer = setTimeout(() => void refresh(), pollMs);
    };
    void refresh();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [api, generation, pollMs]);
  return info;
}
