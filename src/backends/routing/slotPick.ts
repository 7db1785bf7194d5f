import type { SlotCandidate, SlotGrant } from './types.js';

/** Streams a server holds now, as the ledger counts them. */
export type ActiveCount = (upstream: string) => number;

/** A server has room while it holds fewer streams than its `max_parallel` (Infinity: always). */
export function hasRoom(candidate: SlotCandidate, active: ActiveCount): boolean {
  return active(candidate.name) < candidate.maxParallel;
}

/**
 * Where a slot is given at once (docs/upstreams.md "Routing"), or undefined when every
 * candidate is full: the preferred server (conversation affinity) while it has room, else
 * the least busy for its weight, lowest (active + 1) / weight, ties by the candidates'
 * order. "+ 1" scores the server as it would be with this stream, so a weight-2 server
 * ends up with twice the streams of a weight-1 one, not one more. Both ledgers use it.
 * With `usable`, only the usable candidates are looked at, while there is one.
 */
export function pickSlot(candidates: readonly SlotCandidate[], preferred: string | undefined, active: ActiveCount, usable?: (upstream: string) => boolean): SlotCandidate | undefined {
  // A waiter's candidates were fixed when it arrived: one gone down since is passed over while another is up (SlotRequest.usable).
  if (usable && candidates.some((c) => usable(c.name))) candidates = candidates.filter((c) => usable(c.name));
  if (preferred !== undefined) {
    const kept = candidates.find((c) => c.name === preferred);
    if (kept && hasRoom(kept, active)) return kept;
  }
  let best: SlotCandidate | undefined;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    if (!hasRoom(candidate, active)) continue;
    const score = candidate.weight > 0 ? (active(candidate.name) + 1) / candidate.weight : Infinity;
    // A weight of 0 scores Infinity: used only when no other server has room.
    if (best === undefined || score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

/** A slot held on `upstream`; `free` runs on the first `release()` only (a stream's `finally` and an abort may both call it). Both ledgers use it. */
export function slotGrant(upstream: string, waitedMs: number, free: () => void): SlotGrant {
  let released = false;
  return {
    upstream,
    waitedMs,
    release() {
      if (released) return;
      released = true;
      free();
    },
  };
}
