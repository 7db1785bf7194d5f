import type { ServerResponse } from 'node:http';

/**
 * Which API key holds which requests in progress (each holds a connection), so
 * that one key cannot take the connections every key shares (JARVIS_MAX_CONNECTIONS):
 * - a key may hold at most its share (JARVIS_MAX_CONNECTIONS_PER_CLIENT);
 * - at the cap, a key holding fewer may take a connection from the key holding
 *   the most (`victimFor`), so that a key at its bound never costs another key
 *   its connection.
 */
export class ConnectionShares {
  /** In progress per key, oldest first (a Set keeps insertion order). */
  private readonly byKey = new Map<string, Set<ServerResponse>>();

  held(key: string): number {
    return this.byKey.get(key)?.size ?? 0;
  }

  /** Counts `res` for `key` until it closes (or is given up by `victimFor`). */
  add(key: string, res: ServerResponse): void {
    let set = this.byKey.get(key);
    if (!set) this.byKey.set(key, (set = new Set()));
    set.add(res);
    res.once('close', () => this.remove(key, res));
  }

  /** The key holding the most, and how many. */
  top(): { key: string; held: number } | undefined {
    let best: { key: string; held: number } | undefined;
    for (const [key, set] of this.byKey) if (!best || set.size > best.held) best = { key, held: set.size };
    return best;
  }

  /**
   * The request to close so that `key` gets a connection at the cap: the oldest
   * of the key holding the most, when that key holds at least two more than
   * `key` (so that closing never just moves the imbalance the other way); it is
   * no longer counted. Undefined: `key` holds as many as anyone, it must wait.
   */
  victimFor(key: string): { key: string; held: number; res: ServerResponse } | undefined {
    const top = this.top();
    if (!top || top.key === key || top.held < this.held(key) + 2) return undefined;
    const set = this.byKey.get(top.key)!;
    const res = set.values().next().value!;
    this.remove(top.key, res);
    return { ...top, res };
  }

  private remove(key: string, res: ServerResponse): void {
    const set = this.byKey.get(key);
    if (!set?.delete(res)) return;
    if (set.size === 0) this.byKey.delete(key);
  }
}
