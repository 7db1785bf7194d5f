// What the header needs from the server: which backend runs (for the demo banner),
// whether Jarvis and its model server answer (the status banner), and which models
// can be picked. Both are advisory: the chat works without them.
// /health is read again every few seconds: in auto mode the server switches from
// the demo to Ollama once Ollama answers, a model server can stop and come back,
// and the banners and the model list follow.

import { useCallback, useEffect, useRef, useState } from 'react';
import type { HealthResponse } from '../../../src/shared/events.js';
import { type Api, getHealth, getModels } from '../../../src/client/api.js';

export interface ServerInfo {
  health: HealthResponse | null;
  /** null while loading; [] when the backend could not list any. */
  models: string[] | null;
  /** Set when /health failed: the server is down or unreachable. */
  unreachable: boolean;
  /** Reads the model list again (e.g. when the picker is opened: a model may have been pulled since). */
  refreshModels(): void;
}

export const HEALTH_POLL_MS = 5000;

/** `generation` changes after a sign-in: what was refused without a key is asked for again. */
export function useServerInfo(api: Api, generation = 0, pollMs = HEALTH_POLL_MS): ServerInfo {
  const [info, setInfo] = useState<Omit<ServerInfo, 'refreshModels'>>({ health: null, models: null, unreachable: false });
  const readModels = useRef<() => void>(() => {});
  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    // What the model list was read for: a change of backend, or the model server coming back, reads it again.
    let readFor: string | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let reading = false;
    readModels.current = () => {
      if (reading || signal.aborted) return;
      reading = true;
      getModels(api, signal)
        .then(
          (models) => setInfo((i) => (sameList(i.models, models) ? i : { ...i, models })),
          () => !signal.aborted && setInfo((i) => (i.models && i.models.length > 0 ? i : { ...i, models: [] })),
        )
        .finally(() => (reading = false));
    };
    const refresh = async () => {
      try {
        const health = await getHealth(api, signal);
        setInfo((i) => ({ ...i, health, unreachable: false }));
        const key = `${health.backend}:${health.upstream === 'unreachable' ? 'down' : 'up'}`;
        if (key !== readFor) {
          readFor = key;
          if (health.upstream !== 'unreachable') readModels.current();
        }
      } catch {
        if (!signal.aborted) setInfo((i) => ({ ...i, unreachable: true }));
        readFor = undefined; // Jarvis itself may come back as another build, another backend
      }
      if (!signal.aborted) timer = setTimeout(() => void refresh(), pollMs);
    };
    void refresh();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [api, generation, pollMs]);
  const refreshModels = useCallback(() => readModels.current(), []);
  return { ...info, refreshModels };
}

function sameList(a: string[] | null, b: string[]): boolean {
  return !!a && a.length === b.length && a.every((m, i) => m === b[i]);
}
