import type { Config } from '../../config.js';
import type { SystemLog } from '../../log/systemLog.js';
import { kindNamed } from '../registry.js';
import type { SelectedBackend } from '../select.js';
import { UpstreamCatalog } from './catalog.js';
import { LocalAffinity } from './localAffinity.js';
import { LocalHealthBoard } from './localHealth.js';
import { LocalSlotLedger } from './localLedger.js';
import { UpstreamProber } from './prober.js';
import { RoutedBackend } from './routedBackend.js';
import type { UpstreamsConfig } from './spec.js';
import type { AffinityMap, SlotLedger, Upstream, UpstreamHealthBoard } from './types.js';

/** Where the slots, the health and the affinity live: this process (the default) or the cluster's Redis. */
export interface RoutingState {
  ledger: SlotLedger;
  /** `onUp` wakes the ledger's waiters when a server comes back. */
  board: (onUp: (name: string) => void) => UpstreamHealthBoard;
  affinity: AffinityMap;
}

export function localRoutingState(upstreams: UpstreamsConfig, log: SystemLog): RoutingState {
  return {
    ledger: new LocalSlotLedger(upstreams.queue, log),
    board: (onUp) => new LocalHealthBoard(log, onUp),
    affinity: new LocalAffinity(),
  };
}

/**
 * Builds the servers of JARVIS_UPSTREAMS, asks each once (together, within `probeMs`), and
 * starts their background probes (docs/upstreams.md). A server down at start-up is used as
 * soon as a probe finds it up. Logged: `upstreams_selected` with each server's state.
 */
export async function selectUpstreams(config: Config, upstreams: UpstreamsConfig, log: SystemLog, state: RoutingState = localRoutingState(upstreams, log), probeMs = 1500): Promise<SelectedBackend> {
  const built: Upstream[] = upstreams.servers.map(({ spec, settings }) => ({
    spec,
    backend: kindNamed(spec.kind)!.build(settings, { autoSwitches: false, log }),
  }));
  const catalog = new UpstreamCatalog(built.map((u) => u.spec));
  const board = state.board(() => state.ledger.wake());
  const prober = new UpstreamProber(built, catalog, board, upstreams.probeMs);
  await prober.probeAll(probeMs);
  prober.start();
  const backend = new RoutedBackend(
    { upstreams: new Map(built.map((u) => [u.spec.name, u])), catalog, board, ledger: state.ledger, affinity: state.affinity, log, tries: upstreams.tries },
    prober,
  );
  const union = catalog.union();
  log.info('upstreams_selected', {
    upstreams: built.map((u) => `${u.spec.name}=${u.spec.kind}:${board.get(u.spec.name).state}`).join(','),
    models: union.length,
    model: config.model ?? union[0]?.id,
  });
  // A server down now is in /health's `upstreams` and the log (`upstream_down`), not in the warnings: it may be up in a second.
  return { backend, defaultModel: config.model ?? union[0]?.id };
}
