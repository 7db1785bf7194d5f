import type { Redis } from 'ioredis';
import type { SystemLog } from '../../log/systemLog.js';

/**
 * Whether this instance can reach Redis, and the one line per outage (docs/clusters.md):
 * `redis_unavailable` at the first failure, `redis_ready` when it answers again. While it is
 * away new streams get 503 (`unavailable`); the streams already running go on.
 */
export class RedisHealth {
  private trouble: string | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly log: SystemLog,
    private readonly streamsRunning: () => number,
  ) {}

  /** A Redis command failed: logged once per outage. */
  failed(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (this.trouble === undefined) this.log.warn('redis_unavailable', { error: message, streams_running: this.streamsRunning() });
    this.trouble = message;
  }

  /** The client (re)connected. */
  ready(): void {
    if (this.trouble !== undefined) this.log.info('redis_ready', { after: this.trouble });
    this.trouble = undefined;
  }

  /** Why no new stream can start now (a 503), or undefined when one can. */
  unavailable(): string | undefined {
    if (this.redis.status === 'ready') return undefined;
    return `Redis (REDIS_URL) cannot be reached${this.trouble ? ` (${this.trouble})` : ''}: no new stream can start without the session rules; streams already running go on. Retry shortly`;
  }
}
