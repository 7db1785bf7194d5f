import type { Redis } from 'ioredis';
import type { RoutingState } from '../../../backends/routing/selectUpstreams.js';
import type { UpstreamsConfig } from '../../../backends/routing/spec.js';
import type { SystemLog } from '../../../log/systemLog.js';
import { RedisAffinity } from './redisAffinity.js';
import { RedisHealthBoard } from './redisHealthBoard.js';
import { RedisSlotLedger } from './redisSlotLedger.js';

export interface ClusterRoutingOptions {
  /** JARVIS_INSTANCE_ID. */
  instance: string;
  /** JARVIS_LEASE_MS: an instance that stops renewing frees its slots and queue places within it. */
  leaseMs: number;
}

/**
 * Where the router keeps its slots, health and affinity in cluster mode (docs/upstreams.md
 * "Across instances"): the cluster's Redis, so all instances together never give a server more
 * than its max_parallel, share one fair queue per model, avoid a server any of them found down,
 * and keep a conversation on its server whichever instance takes its next prompt. They use the
 * cluster's connection (openCluster) and leave it open: the coordinator closes it, after the
 * backend (and so the ledger, which frees its slots) has closed.
 */
export function clusterRoutingState(redis: Redis, upstreams: UpstreamsConfig, log: SystemLog, options: ClusterRoutingOptions): RoutingState {
  const names = upstreams.servers.map((server) => server.spec.name);
  return {
    ledger: new RedisSlotLedger(redis, { instance: options.instance, leaseMs: options.leaseMs, bounds: upstreams.queue, upstreams: names }),
    board: (onUp) => new RedisHealthBoard(redis, names, log, options.instance, onUp),
    affinity: new RedisAffinity(redis),
  };
}
