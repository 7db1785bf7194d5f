import type { SlotRequest } from '../../../backends/routing/types.js';
import { BackendError } from '../../../backends/types.js';
import { ClusterUnavailableError } from '../../coordinator.js';

// The cluster ledger's refusals, in the local ledger's words (src/backends/routing/localLedger.ts)
// with "across the cluster" where the figure is the cluster's.

function serversFull(servers: number): string {
  return servers === 1 ? 'its 1 server is at its max_parallel' : `all ${servers} of its servers are at their max_parallel`;
}

export function queueFull(request: SlotRequest, waiting: number, maxQueue: number): BackendError {
  const servers = request.candidates.length;
  return new BackendError(
    'upstream_busy',
    `the model '${request.queue}' is busy: ${serversFull(servers)} and ${waiting} requests already wait in its queue across the cluster, the most allowed (JARVIS_UPSTREAM_QUEUE=${maxQueue}); try again shortly`,
    { fields: { queue: request.queue, waiting, servers } },
  );
}

export function waitedTooLong(request: SlotRequest, maxWaitMs: number, waiting: number): BackendError {
  const seconds = Math.round(maxWaitMs / 100) / 10;
  return new BackendError(
    'upstream_busy',
    `waited ${seconds} s for a server of the model '${request.queue}' (JARVIS_UPSTREAM_QUEUE_TIMEOUT_MS=${maxWaitMs}): ${serversFull(request.candidates.length)} all along; try again shortly`,
    { fields: { queue: request.queue, waiting, waited_ms: maxWaitMs } },
  );
}

/** As the local ledger: 503 with Retry-After, as a busy server would be. */
export function shuttingDown(queue: string): BackendError {
  return new BackendError('upstream_busy', `Jarvis is shutting down: the request waiting for a server of the model '${queue}' was not sent; try again once it is back`, {
    fields: { queue },
  });
}

export function noCandidate(queue: string): BackendError {
  return new BackendError('upstream_unavailable', `no healthy server serves the model '${queue}' now`, { fields: { queue } });
}

/** The stream ends `cluster_unavailable` (runStream): without Redis no instance can count the servers' slots. */
export function unavailable(why: string): ClusterUnavailableError {
  return new ClusterUnavailableError(`Redis (REDIS_URL) cannot be reached (${why}): the servers' slots are counted there, so no stream can be given a server now; retry shortly`);
}
