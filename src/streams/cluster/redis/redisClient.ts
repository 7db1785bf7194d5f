import { Redis, type RedisOptions } from 'ioredis';

/**
 * The one way Jarvis opens Redis: every command is bounded (`commandTimeout`), and
 * nothing queues while Redis is away (`enableOfflineQueue: false`: a command then
 * fails at once, where an unbounded queue would hang Stop, as LibreChat's did). The
 * client reconnects by itself, at most a second apart.
 */
export function openRedis(url: string, commandTimeoutMs: number, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(1000, commandTimeoutMs),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
    lazyConnect: false,
    ...extra,
  });
}

/** Resolves once the client is ready, or after `ms` (then the caller goes on and reports 503s until it is). */
export function whenReady(redis: Redis, ms: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, ms);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}
