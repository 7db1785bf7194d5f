// Redis keys of the upstreams' shared state (docs/upstreams.md "Across instances"). The
// ledger's keys share one hash tag, `{upstreams}`, so each of its Lua scripts touches one slot
// (Redis Cluster-safe): a script that gives a slot reads every candidate's holders and the
// queue at once. Upstream names are [A-Za-z0-9._-]; queue (model) names may hold anything but
// the tag is the first `{…}`, so they cannot move a key to another slot.

/** What the ledger's scripts are given as KEYS[1]; every key they touch is built from it. */
export const LEDGER_PREFIX = 'jarvis:{upstreams}:';

/** The suffixes the scripts add to LEDGER_PREFIX (written out here for the reader; the Lua spells them too). */
export const ledgerKeys = {
  /** Slots held on an upstream (sorted set): member `<instance>:<stream>`, score = lease expiry (epoch ms). */
  slots: (upstream: string) => `${LEDGER_PREFIX}s:${upstream}`,
  /** A queue's waiters in fair order (sorted set): member `<arrival, 12 digits>:<instance>:<stream>`, score = start tag. */
  queue: (queue: string) => `${LEDGER_PREFIX}q:${queue}`,
  /** A queue's waiters' requests (hash): member → JSON {o: owner, c: [[name, maxParallel, weight]…], p: preferred}. */
  waiters: (queue: string) => `${LEDGER_PREFIX}w:${queue}`,
  /** A queue's waiters' leases (sorted set): member → expiry (epoch ms), renewed by their instance's poll. */
  waiterLeases: (queue: string) => `${LEDGER_PREFIX}e:${queue}`,
  /** A queue's fair-queuing state (hash): `v` (tag of the last waiter granted), `n` (arrivals), `t:<owner>` (owner's last tag). */
  fairness: (queue: string) => `${LEDGER_PREFIX}f:${queue}`,
  /** Slots given to an instance's waiters by another instance's script (hash): queue member → upstream. */
  grants: (instance: string) => `${LEDGER_PREFIX}g:${instance}`,
  /**
   * Servers found down (sorted set): name → when it is asked again (epoch ms). The health board
   * writes it; the scripts pass over a waiter's candidate in it while another candidate is not
   * (as SlotRequest.usable does in one process). Past its score it counts as up again.
   */
  down: `${LEDGER_PREFIX}down`,
};

/** One upstream's health as the instances found it (hash): state, error, since, retryAt, fails. */
export const healthKey = (upstream: string): string => `jarvis:upstream:health:${upstream}`;

/** The upstream that answered a session's last prompt, with a TTL (30 min idle). */
export const affinityKey = (session: string): string => `jarvis:upstream:affinity:${session}`;
