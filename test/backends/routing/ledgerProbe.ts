import type { SlotCandidate, SlotGrant, SlotRequest } from '../../../src/backends/routing/types.js';

/** A promise's outcome, readable once the microtasks have run (settled()). */
export interface Outcome {
  grant?: SlotGrant;
  error?: unknown;
  /** Every position given to onQueued, in order. */
  positions: number[];
  /** The order in which grants arrived, across the probes of one test. */
  grantedAt?: number;
}

let grants = 0;

/** Grants seen so far (by every probe): the clock `grantedAt` is read on. */
export function grantCount(): number {
  return grants;
}

/** Starts an acquire and records what happens to it. */
export function probe(acquire: (onQueued: (position: number) => void) => Promise<SlotGrant>): Outcome {
  const outcome: Outcome = { positions: [] };
  acquire((position) => outcome.positions.push(position)).then(
    (grant) => {
      outcome.grant = grant;
      outcome.grantedAt = ++grants;
    },
    (error: unknown) => (outcome.error = error),
  );
  return outcome;
}

/** Lets every resolved promise's handlers run (the ledger settles synchronously; handlers are microtasks). */
export function settled(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function server(name: string, maxParallel: number, weight = 1): SlotCandidate {
  return { name, maxParallel, weight };
}

let ids = 0;
export function slotRequest(queue: string, owner: string, candidates: SlotCandidate[], preferred?: string): SlotRequest {
  return { id: `s${++ids}`, owner, queue, candidates, preferred };
}
