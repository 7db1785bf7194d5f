import type { Redis } from 'ioredis';

// Cluster mode: a change of a stored key reaches the other instances at once, not at their
// next poll (docs/architecture.md "Stored keys"). A lost message costs at most one poll.

/** `<instance> <key id>`: the instance that changed the key, and which key. */
export const KEYS_CHANNEL = 'jarvis:keys';

export interface KeySignals {
  publish(id: string): void;
  close(): void;
}

export function redisKeySignals(redis: Redis, instance: string, onChanged: (id: string) => void): KeySignals {
  // Subscriptions need a connection of their own; the SUBSCRIBE waits out a Redis that is not up yet (as redisCoordinator.ts's).
  const sub = redis.duplicate({ enableOfflineQueue: true, commandTimeout: undefined, maxRetriesPerRequest: null, enableAutoPipelining: false });
  sub.on('error', () => {});
  void sub.subscribe(KEYS_CHANNEL).catch(() => {});
  sub.on('message', (channel: string, message: string) => {
    const space = message.indexOf(' ');
    if (channel !== KEYS_CHANNEL || space < 0 || message.slice(0, space) === instance) return;
    onChanged(message.slice(space + 1));
  });
  return {
    publish: (id) => void redis.publish(KEYS_CHANNEL, `${instance} ${id}`).catch(() => {}),
    close: () => sub.disconnect(),
  };
}
