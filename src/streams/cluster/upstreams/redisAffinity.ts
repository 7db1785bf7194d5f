import type { Redis } from 'ioredis';
import { AFFINITY_TTL_MS } from '../../../backends/routing/localAffinity.js';
import type { AffinityMap } from '../../../backends/routing/types.js';
import { affinityKey } from './upstreamKeys.js';

/**
 * Conversation affinity shared by the instances of a cluster (docs/upstreams.md "Affinity"):
 * the next prompt of a session goes to the server that answered its last one whichever
 * instance takes it. One key per session with the idle TTL (AFFINITY_TTL_MS), renewed by each
 * prompt, so Redis holds only the sessions of the last half hour, not a per-process count.
 * Best effort: Redis away or slow, a prompt is routed without it (as a new session would be).
 */
export class RedisAffinity implements AffinityMap {
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs = AFFINITY_TTL_MS,
  ) {}

  async get(session: string): Promise<string | undefined> {
    if (this.redis.status !== 'ready') return undefined;
    try {
      return (await this.redis.get(affinityKey(keyOf(session)))) ?? undefined;
    } catch {
      return undefined;
    }
  }

  set(session: string, upstream: string): void {
    if (this.redis.status !== 'ready') return;
    this.redis.set(affinityKey(keyOf(session)), upstream, 'PX', this.ttlMs).catch(() => {});
  }

  async close(): Promise<void> {}
}

/** The router's session key is `<owner>\0<session>`; key names hold no `/`, so `<owner>/<session>` is as unambiguous and readable in redis-cli. */
function keyOf(session: string): string {
  return session.replace('\u0000', '/');
}
