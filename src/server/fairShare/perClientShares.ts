import { shareOf, streamShareOf } from '../../config.js';
import type { Limits } from '../../limits.js';

/**
 * What one client (a key, a signed-in user) may hold of the connections and of the live streams
 * (docs/security.md "Connections, feed followers and reattach readers"). Unless the operator set
 * them, half of each as soon as two callers or more may share Jarvis, counted now: keys are
 * created at run time (docs/team.md "3. Keys"), so a share fixed at start-up from the
 * environment's keys alone would let the first stored key take every connection.
 */
export interface PerClientShares {
  connections(): number;
  streams(): number;
}

export function perClientShares(limits: Pick<Limits, 'maxConnections' | 'maxConnectionsPerClient' | 'maxStreams' | 'maxStreamsPerClient' | 'perClientSet'>, callers: () => number): PerClientShares {
  return {
    connections: () => (limits.perClientSet.connections ? limits.maxConnectionsPerClient : shareOf(limits.maxConnections, callers())),
    streams: () => (limits.perClientSet.streams ? limits.maxStreamsPerClient : streamShareOf(limits.maxStreams, callers())),
  };
}
