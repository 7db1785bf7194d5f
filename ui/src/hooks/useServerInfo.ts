// What the header needs from the server: which backend runs (for the demo banner),
// whether Jarvis and its model servers answer (the status banner), and which models
// can be picked, with the servers of each when there are several. All advisory: the
// chat works without them.
// /health is read again every few seconds: in auto mode the server switches from
// the demo to Ollama once Ollama answers, a model server can stop and come back,
// and the banners and the model list follow.

import { useCallback, useEffect, useRef, useState } from 'react';
import type { HealthResponse, ModelList } from '../../../src/shared/events.js';
import { type Api, getHealth, getModelList } from '../../../src/client/api.js';

export interface ServerInfo {
  health: HealthResponse | null;
  /** null while loading; [] when the backend could not list any. */
  models: string[] | null;
  /** Several model servers (docs/upstreams.md): the servers of each model; empty with one. */
  servers: Readonly<Record<string, string[]>>;
  /** Set when /health failed: the server is down or unreachable. */
  unreachable: boolean;
  /** Reads the model list again (e.g. when the picker is opened: a model may have been pulled since). */
  refreshModels(): void;
}

export const HEALTH_POLL_MS = 5000;
const NO_SERVERS: Readonly<Record<string, string[]>> = Object.freeze({});

/** `generation` changes after a sign-in: what was refused without a key is asked for again. */
export function useServerInfo(api: Api, generation = 0, pollMs = HEALTH_POLL_MS): ServerInfo {
  const [info, setInfo] = useState<Omit<ServerInfo, 'refreshModels'>>({ health: null, models: null, servers: NO_SERVERS, unreachable: false });
  const readModels = useRef<() => void>(() => {});
  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    // What the model list was read for: a change of backend, or a model server going or coming back, reads it again.
    let readFor: string | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let reading = false;
    readModels.current = () => {
      if (reading || signal.aborted) return;
      reading = true;
      getModelList(api, signal)
        .then(
          (list) => setInfo((i) => (sameList(i, list) ? i : { ...i, models: list.map((m) => m.id), servers: serversOf(list) })),
          () => !signal.aborted && setInfo((i) => (i.models && i.models.length > 0 ? i : { ...i, models: [] })),
        )
        .finally(() => (reading = false));
    };
    const refresh = async () => {
      try {
        const health = await getHealth(api, signal);
        setInfo((i) => ({ ...i, health, unreachable: false }));
        const key = `${health.backend}:${health.upstream === 'unreachable' ? 'down' : 'up'}:${upOnes(health)}`;
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

/** The servers that answer, when there are several (an older server sends no `upstreams`). */
function upOnes(health: HealthResponse): string {
  const servers = health.upstreams ?? [];
  return servers.length > 1 ? servers.filter((u) => u.state === 'up').map((u) => u.name).join(',') : '';
}

function serversOf(list: ModelList['data']): Readonly<Record<string, string[]>> {
  const withServers = list.filter((m) => m.upstreams && m.upstreams.length > 0);
  return withServers.length === 0 ? NO_SERVERS : Object.fromEntries(withServers.map((m) => [m.id, m.upstreams!]));
}

function sameList(i: Pick<ServerInfo, 'models' | 'servers'>, list: ModelList['data']): boolean {
  const a = i.models;
  return !!a && a.length === list.length && list.every((m, k) => m.id === a[k] && (m.upstreams ?? []).join() === (i.servers[m.id] ?? []).join());
}
