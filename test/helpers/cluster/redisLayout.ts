import { channels, keys, sessionPrefix } from '../../../src/streams/cluster/redis/keys.js';

// The one place tests touch the cluster's key layout in Redis: to stage a fault inside Redis
// (an entry out of order) or to watch what no public call shows (a lease lapsing, a key's
// expiry, who listens for stops). Every other test goes through Jarvis's HTTP API or the
// event log's own interface (docs/clusters.md).

/** The prefix of a session's keys (what RedisEventLog.push takes). */
export function sessionKeys(owner: string, sessionId: string): string {
  return sessionPrefix(owner, sessionId);
}

/** The owner instance's hold on a stream: gone once its lease has lapsed. */
export function leaseKey(owner: string, sessionId: string, streamId: string): string {
  return keys.lease(sessionPrefix(owner, sessionId), streamId);
}

/** A stream's keys: its record, its event log (a Redis Stream) and its stream id → session index. */
export function streamKeys(owner: string, sessionId: string, streamId: string): { meta: string; log: string; index: string } {
  const prefix = sessionPrefix(owner, sessionId);
  return { meta: keys.meta(prefix, streamId), log: keys.log(prefix, streamId), index: keys.stream(streamId) };
}

/** The pub/sub channel the instances hear Stop on. */
export const stopChannel = channels.stop;
