import type { Redis } from 'ioredis';
import type { SystemLog } from '../../log/systemLog.js';
import type { MemoryEventLog } from '../eventLog/memoryEventLog.js';
import type { StreamRegistry } from '../registry.js';
import type { StreamMetrics } from '../streamMetrics.js';
import { ClusterEventLog } from './eventLog/clusterEventLog.js';
import { RedisEventLog } from './eventLog/redisEventLog.js';
import { openRedis, whenReady } from './redis/redisClient.js';
import { RedisCoordinator } from './redisCoordinator.js';

export interface ClusterOptions {
  redisUrl: string;
  redisTimeoutMs: number;
  instanceId: string;
  leaseMs: number;
  retentionMs: number;
  cancelTimeoutMs: number;
  /** The longest a stream's Redis log may grow, in entries. */
  maxLogEntries: number;
}

/** What cluster mode gives the server: the session rules and the stream logs, both the cluster's. */
export interface Cluster {
  coordinator: RedisCoordinator;
  streamLog: ClusterEventLog;
  /** The connection both use, for the upstreams' shared state (upstreams/clusterRouting.ts); the coordinator's `close()` ends it. */
  redis: Redis;
}

/**
 * Cluster mode (docs/clusters.md): Redis, the cluster's event log and coordinator.
 * Starts even while Redis is down (503s until it answers). The coordinator's `close()`
 * ends the Redis connection.
 */
export async function openCluster(options: ClusterOptions, log: SystemLog, local: StreamRegistry, memoryLog: MemoryEventLog, metrics: StreamMetrics): Promise<Cluster> {
  // Commands issued in one turn of the event loop go out as one write (ioredis's auto-pipelining):
  // every stream's log mirror pushes its new tokens on the same connection, and one write per
  // token per stream was the largest part of an instance's work (docs/clusters.md, "Resume works from any instance").
  const redis = openRedis(options.redisUrl, options.redisTimeoutMs, { enableAutoPipelining: true });
  redis.on('error', () => {}); // reported by the coordinator (once per outage), never thrown
  const ready = await whenReady(redis, 5000);
  log.info('cluster_mode', { instance: options.instanceId, redis: redactUrl(options.redisUrl), redis_ready: ready, lease_ms: options.leaseMs });
  const remote = new RedisEventLog(redis, {
    retentionMs: options.retentionMs,
    leaseMs: options.leaseMs,
    commandTimeoutMs: options.redisTimeoutMs,
    maxLen: options.maxLogEntries,
    onReadError: (streamId, sessionId, error) => log.error('stream_log_read_failed', { stream_id: streamId, session: sessionId, error }),
    onVanished: (v) => {
      const fields = { trace: v.streamId, session: v.sessionId, after: v.after, waited_ms: v.waitedMs };
      if (v.outcome === 'resumed') log.info('redis_log_resumed', fields);
      else log.warn('redis_log_lost', fields);
    },
    onLost: (lost) => coordinator.recordLost('reader', { trace: lost.streamId, session: lost.sessionId, key: lost.owner || undefined, prev_instance: lost.instance }),
  });
  const streamLog = new ClusterEventLog(memoryLog, remote);
  // (onLost above runs only once readers read, after this is set.)
  const coordinator = new RedisCoordinator(local, redis, streamLog, log, {
    instance: options.instanceId,
    leaseMs: options.leaseMs,
    cancelTimeoutMs: options.cancelTimeoutMs,
    retentionMs: options.retentionMs,
    metrics,
  });
  return { streamLog, coordinator, redis };
}

/** The Redis URL without its password, for the log. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'invalid';
  }
}
