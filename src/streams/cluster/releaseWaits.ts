import type { Redis } from 'ioredis';
import { keys } from './redis/keys.js';

/**
 * A successor's wait for the stream it superseded to let go (docs/clusters.md):
 * until its `released` message (pub/sub) or its lease key is gone (polled: pub/sub keeps
 * nothing, a message may be lost), bounded by the cancel timeout.
 */
export class ReleaseWaits {
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly redis: Redis,
    private readonly cancelTimeoutMs: number,
  ) {}

  /** The `released` message of `streamId` came. */
  released(streamId: string): void {
    for (const waiter of this.waiters.get(streamId) ?? []) waiter();
  }

  /** Until the stream `prevId` has let go, bounded by the cancel timeout. */
  wait(prefix: string, prevId: string): Promise<'clean' | 'timeout'> {
    return new Promise((resolve) => {
      let poll: NodeJS.Timeout | undefined;
      const finish = (r: 'clean' | 'timeout') => {
        clearTimeout(deadline);
        clearTimeout(poll);
        const set = this.waiters.get(prevId);
        set?.delete(onReleased);
        if (set?.size === 0) this.waiters.delete(prevId);
        resolve(r);
      };
      const onReleased = () => finish('clean');
      const deadline = setTimeout(finish, this.cancelTimeoutMs, 'timeout');
      let set = this.waiters.get(prevId);
      if (!set) this.waiters.set(prevId, (set = new Set()));
      set.add(onReleased);
      const check = () => {
        this.redis.exists(keys.lease(prefix, prevId)).then(
          (n) => (n === 0 ? finish('clean') : (poll = setTimeout(check, 50))),
          () => (poll = setTimeout(check, 50)),
        );
      };
      check();
    });
  }
}
