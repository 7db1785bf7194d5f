import type { AffinityMap } from './types.js';

/** A session not seen for this long starts afresh (its server's prompt cache is likely gone too). */
export const AFFINITY_TTL_MS = 30 * 60_000;
/** Sessions remembered per process; the longest unused is forgotten first. */
export const AFFINITY_MAX_SESSIONS = 100_000;

/**
 * Conversation affinity in one process (docs/upstreams.md "Affinity"): the server that answered
 * each session's last prompt. A Map in insertion order is the LRU: a `set` moves the session to the end.
 */
export class LocalAffinity implements AffinityMap {
  private readonly sessions = new Map<string, { upstream: string; at: number }>();

  constructor(
    private readonly ttlMs = AFFINITY_TTL_MS,
    private readonly max = AFFINITY_MAX_SESSIONS,
  ) {}

  async get(session: string): Promise<string | undefined> {
    const entry = this.sessions.get(session);
    if (!entry) return undefined;
    if (Date.now() - entry.at > this.ttlMs) {
      this.sessions.delete(session);
      return undefined;
    }
    return entry.upstream;
  }

  set(session: string, upstream: string): void {
    this.sessions.delete(session);
    this.sessions.set(session, { upstream, at: Date.now() });
    if (this.sessions.size > this.max) this.sessions.delete(this.sessions.keys().next().value!);
  }

  async close(): Promise<void> {
    this.sessions.clear();
  }
}
